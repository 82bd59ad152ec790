/**
 * `npm run conformance -- azure|okta`: starts a bridge on its own throwaway slapd and Redis
 * (empty directory for Microsoft's suite, which needs one; the sample directory for Okta's, which
 * needs an existing user), runs the vendor suite from ../shared/conformance against it, stops.
 * Microsoft's validator is configured as an Entra ID client would be: its token answers a PATCH
 * with 204 (auth.tokens[].patchResponse). `--default-patch` leaves the mappings' 200 instead.
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/index.ts';
import { SAMPLE_LDIF } from '../src/localdev/slapd.ts';
import { startBridge } from '../src/main.ts';

const suite = process.argv[2];
if (suite !== 'azure' && suite !== 'okta') {
  console.error('usage: npm run conformance -- azure|okta');
  process.exit(2);
}
const runner = fileURLToPath(new URL('../../shared/conformance/run.sh', import.meta.url));
if (!existsSync(runner)) {
  console.error(`conformance suites not found at ${runner} (../shared beside the repository)`);
  process.exit(2);
}
const token = randomBytes(24).toString('base64url');
const asEntra = suite === 'azure' && !process.argv.includes('--default-patch');
const config = loadConfig({
  env: {
    ...(asEntra
      ? {
          SCIM_BRIDGE_AUTH_TOKENS: JSON.stringify([
            {
              name: 'entra-validator',
              sha256: createHash('sha256').update(token).digest('hex'),
              patchResponse: 204,
            },
          ]),
        }
      : { SCIM_BRIDGE_TOKEN: token }),
    SCIM_BRIDGE_SERVER_PORT: '0',
    SCIM_BRIDGE_LOG_LEVEL: process.env.LOG_LEVEL ?? 'silent',
  },
});
const bridge = await startBridge({ config, seedLdif: suite === 'azure' ? [] : [SAMPLE_LDIF] });
const code = await new Promise<number>((resolve) => {
  const child = spawn('bash', [runner, suite, bridge.baseUrl, token], { stdio: 'inherit' });
  child.on('exit', (c) => resolve(c ?? 1));
});
await bridge.stop();
process.exit(code);
