/** The throwaway slapd harness itself: seeding, restart on the same data, clean failure, clean stop. */
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from 'ldapts';
import { describe, expect, it } from 'vitest';
import { BASE_LDIF, missingLdapBinaries, startSlapd } from '../../../src/localdev/slapd.ts';
import { ldapBinariesMissing, PEOPLE, rawValues, SAMPLE_UIDS, startSeededSlapd } from './helpers.ts';

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(ldapBinariesMissing)('throwaway slapd', () => {
  it('finds the OpenLDAP binaries on this machine', () => {
    expect(missingLdapBinaries()).toEqual([]);
  });

  it('seeds, lets the service account in, keeps data across restart(), and cleans up on stop()', async () => {
    const slapd = await startSeededSlapd();
    try {
      expect(slapd.url).toBe(`ldap://127.0.0.1:${slapd.port}/`);
      const client = new Client({ url: slapd.url });
      await client.bind(slapd.serviceDn, slapd.servicePassword);
      const { searchEntries } = await client.search(PEOPLE, {
        scope: 'one',
        filter: '(uid=*)',
        attributes: ['uid'],
      });
      await client.unbind();
      expect(searchEntries.map((entry) => entry.uid).sort()).toEqual(SAMPLE_UIDS);

      const root = new Client({ url: slapd.url });
      await root.bind(slapd.rootDn, slapd.rootPassword);
      await root.add(`uid=kept,${PEOPLE}`, { objectClass: 'inetOrgPerson', uid: 'kept', cn: 'k', sn: 'k' });
      await root.unbind();

      const oldPid = slapd.pid;
      await slapd.restart();
      expect(isAlive(oldPid)).toBe(false);
      expect(isAlive(slapd.pid)).toBe(true);
      expect(await rawValues(slapd, `uid=kept,${PEOPLE}`, 'uid')).toEqual(['kept']);
    } finally {
      await slapd.stop();
    }
    expect(isAlive(slapd.pid)).toBe(false);
    expect(existsSync(slapd.dataDir)).toBe(false);
  });

  it('leaves a caller-owned dataDir in place and reuses its database without re-seeding', async () => {
    const dataDir = await mkdtemp(path.join(tmpdir(), 'slapd-owned-'));
    try {
      const first = await startSlapd({ dataDir, seedLdif: [BASE_LDIF], durable: true });
      await first.stop();
      expect(existsSync(path.join(dataDir, 'db', 'data.mdb'))).toBe(true);
      // Seeding again would fail (entries exist): the existing database is used as it is.
      const second = await startSlapd({ dataDir, seedLdif: [BASE_LDIF] });
      try {
        expect(await rawValues(second, second.serviceDn, 'cn')).toEqual(['svc']);
      } finally {
        await second.stop();
      }
    } finally {
      await rm(dataDir, { recursive: true, force: true });
    }
  });

  it("fails with slapd's own words when the port is taken", async () => {
    const blocker = net.createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await expect(startSlapd({ port })).rejects.toThrow(/Address already in use/);
    } finally {
      blocker.close();
    }
  });

  it('reports a broken seed file with the slapadd message', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bad-ldif-'));
    const file = path.join(dir, 'bad.ldif');
    await writeFile(
      file,
      'dn: uid=orphan,ou=Nowhere,dc=example,dc=com\nobjectClass: inetOrgPerson\nuid: x\n',
    );
    try {
      await expect(startSlapd({ seedLdif: [file] })).rejects.toThrow(/slapadd of .*bad\.ldif failed/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
