#!/usr/bin/env node
// The package's command. The sources are TypeScript run by Node's type stripping (Node >= 22.18).
const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(`scim-ldap-bridge needs Node.js 22.18 or newer (this is ${process.version}); run it through npm (npx scim-ldap-bridge), which uses the Node installed by npm ci.\n`);
  process.exit(2);
}
await import('../src/cli/main.ts');
