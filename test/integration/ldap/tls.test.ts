/**
 * StartTLS and LDAPS through the pool, against slapd with a throwaway CA made by openssl. Without
 * slapd or openssl it is skipped, in CI it fails (test/harness/prerequisites.ts).
 */
import { execFile } from 'node:child_process';
import { constants } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isAccessible } from '../../../src/localdev/process.ts';
import {
  BASE_LDIF,
  missingLdapBinaries,
  type RunningSlapd,
  SAMPLE_LDIF,
  startSlapd,
} from '../../../src/localdev/slapd.ts';
import { UnavailableError } from '../../../src/ports/errors.ts';
import { skipWithout } from '../../harness/prerequisites.ts';
import { directoryFor, PEOPLE, text } from './helpers.ts';

const run = promisify(execFile);
const OPENSSL = '/usr/bin/openssl';

/** A CA and a server certificate for localhost / 127.0.0.1, valid for a day. */
async function makeCertificates(dir: string) {
  const file = (name: string) => path.join(dir, name);
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  await run(OPENSSL, [
    'req',
    '-x509',
    ...ec,
    '-keyout',
    file('ca.key'),
    '-out',
    file('ca.pem'),
    '-days',
    '1',
    '-subj',
    '/CN=Test CA',
  ]);
  await run(OPENSSL, [
    'req',
    ...ec,
    '-keyout',
    file('server.key'),
    '-out',
    file('server.csr'),
    '-subj',
    '/CN=localhost',
  ]);
  await writeFile(file('ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  await run(OPENSSL, [
    'x509',
    '-req',
    '-in',
    file('server.csr'),
    '-CA',
    file('ca.pem'),
    '-CAkey',
    file('ca.key'),
    '-CAcreateserial',
    '-out',
    file('server.pem'),
    '-days',
    '1',
    '-extfile',
    file('ext.cnf'),
  ]);
  return {
    ca: await readFile(file('ca.pem')),
    certificateFile: file('server.pem'),
    keyFile: file('server.key'),
  };
}

const SUITE = 'LDAP directory over TLS';
const missing = [
  ...missingLdapBinaries(),
  ...(isAccessible(OPENSSL, constants.X_OK) ? [] : ['openssl (apt-get install openssl)']),
];

describe.skipIf(skipWithout(SUITE, missing))(SUITE, () => {
  let slapd: RunningSlapd;
  let certDir: string;
  let ca: Buffer;

  beforeAll(async () => {
    certDir = await mkdtemp(path.join(tmpdir(), 'ldap-tls-'));
    const certificates = await makeCertificates(certDir);
    ca = certificates.ca;
    slapd = await startSlapd({
      seedLdif: [BASE_LDIF, SAMPLE_LDIF],
      tls: { certificateFile: certificates.certificateFile, keyFile: certificates.keyFile },
    });
  });

  afterAll(async () => {
    await slapd?.stop();
    if (certDir) await rm(certDir, { recursive: true, force: true });
  });

  async function readAlice(overrides: Parameters<typeof directoryFor>[1]) {
    const directory = directoryFor(slapd, { poolSize: 1, ...overrides });
    try {
      return text(await directory.read(`uid=alice,${PEOPLE}`, ['uid']), 'uid');
    } finally {
      await directory.close();
    }
  }

  it('binds and reads after StartTLS, checking the certificate against the CA', async () => {
    expect(await readAlice({ startTls: true, tls: { ca } })).toBe('alice');
    // The URL says 127.0.0.1 (an IP SAN); serverName picks the DNS SAN instead.
    expect(await readAlice({ startTls: true, tls: { ca, serverName: 'localhost' } })).toBe('alice');
  });

  it('binds and reads over ldaps://', async () => {
    expect(await readAlice({ url: slapd.ldapsUrl as string, tls: { ca } })).toBe('alice');
  });

  it('refuses an untrusted or mismatching certificate with UnavailableError', async () => {
    await expect(readAlice({ startTls: true })).rejects.toBeInstanceOf(UnavailableError);
    await expect(
      readAlice({ startTls: true, tls: { ca, serverName: 'ldap.example.org' } }),
    ).rejects.toBeInstanceOf(UnavailableError);
    await expect(readAlice({ url: slapd.ldapsUrl as string })).rejects.toBeInstanceOf(UnavailableError);
  });

  it('reconnects with StartTLS after a restart', async () => {
    const directory = directoryFor(slapd, { poolSize: 1, startTls: true, tls: { ca } });
    try {
      expect(text(await directory.read(`uid=alice,${PEOPLE}`, ['uid']), 'uid')).toBe('alice');
      await slapd.restart();
      // Promptly: the pool sees the closed socket under the TLS layer instead of waiting for the
      // 2 s operation timeout on a connection that is gone.
      const started = performance.now();
      expect(text(await directory.read(`uid=bob,${PEOPLE}`, ['uid']), 'uid')).toBe('bob');
      expect(performance.now() - started).toBeLessThan(1_000);
    } finally {
      await directory.close();
    }
  });
});
