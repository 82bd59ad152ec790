#!/usr/bin/env node
// The registry reachable from the project's machines serves only the platform packages of this
// machine (e.g. @biomejs/cli-linux-x64) and answers 404 for the others (darwin, win32, musl, ...).
// `npm install` then leaves them out of package-lock.json, and `npm ci` refuses the lock as "out of
// sync". This adds a stub lock entry for each missing optional platform package, with the os/cpu/
// libc of its name, so npm ci accepts the lock and skips them on platforms they do not fit.
// Run after any `npm install` that changes the lock: node scripts/lockfile-platform-stubs.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const path = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(path, 'utf8'));
const packages = lock.packages;
const OS = ['android', 'darwin', 'freebsd', 'linux', 'openbsd', 'sunos', 'win32', 'aix', 'netbsd'];
const CPU = ['arm64', 'x64', 'arm', 'ia32', 'ppc64', 's390x', 'riscv64', 'loong64'];
let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [name, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const base = location === '' ? 'node_modules' : `${location}/node_modules`;
    const candidates = [`${base}/${name}`, `node_modules/${name}`];
    if (candidates.some((c) => packages[c])) continue;
    const parts = name.split('/').pop().split('-');
    const os = parts.find((p) => OS.includes(p));
    const cpu = parts.find((p) => CPU.includes(p));
    if (!os && !cpu) continue; // not a platform package: leave npm's verdict alone
    packages[`node_modules/${name}`] = {
      version,
      dev: entry.dev || undefined,
      optional: true,
      ...(os ? { os: [os] } : {}),
      ...(cpu ? { cpu: [cpu] } : {}),
      ...(parts.includes('musl') ? { libc: ['musl'] } : {}),
    };
    added++;
  }
}
writeFileSync(path, `${JSON.stringify(lock, null, 2)}\n`);
console.log(`lockfile-platform-stubs: added ${added} stub entr${added === 1 ? 'y' : 'ies'}`);
