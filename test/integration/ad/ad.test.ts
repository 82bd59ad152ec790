/**
 * The Active Directory preset (mappings/activedirectory) against a real Samba AD DC: SCIM -> AD ->
 * SCIM round trips over LDAPS, checked in the directory with a separate ldapts client.
 *
 * Needs `apt-get install samba`, root and the fixed ports 389/636/88 free on 127.0.0.1 (one Samba
 * per machine); without them it is skipped, in CI it fails (test/harness/prerequisites.ts).
 * Provisioning takes ~5-7 s. Run alone: npx vitest run test/integration/ad
 */
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client, InvalidCredentialsError } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLdapDirectory } from '../../../src/ldap/index.ts';
import { missingSambaPrerequisites, type RunningSambaAd, startSambaAd } from '../../../src/localdev/samba.ts';
import { guidToString } from '../../../src/mapping/transforms.ts';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { skipWithout } from '../../harness/prerequisites.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SUITE = 'Active Directory preset against Samba AD DC';

describe.skipIf(skipWithout(SUITE, await missingSambaPrerequisites()))(SUITE, () => {
  let samba: RunningSambaAd;
  let t: TestBridge;
  let ldap: Client;
  const groupsOu = 'OU=Groups,DC=example,DC=test';

  async function raw(dn: string, attributes: string[]): Promise<Record<string, unknown> | undefined> {
    const { searchEntries } = await ldap.search(dn, {
      scope: 'base',
      attributes,
      explicitBufferAttributes: ['objectGUID'],
    });
    return searchEntries[0];
  }

  function values(v: unknown): string[] {
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
  }

  beforeAll(async () => {
    const started = Date.now();
    samba = await startSambaAd();
    const sambaMs = Date.now() - started;
    ldap = new Client({
      url: samba.ldapsUrl,
      tlsOptions: { ca: readFileSync(samba.caFile), servername: samba.serverName },
    });
    await ldap.bind(samba.adminDn, samba.adminPassword);
    await ldap.add(groupsOu, [
      new Attribute({ type: 'objectClass', values: ['top', 'organizationalUnit'] }),
      new Attribute({ type: 'ou', values: ['Groups'] }),
    ]);
    t = await startTestBridge({
      env: {
        SCIM_BRIDGE_LDAP_URL: samba.ldapsUrl,
        SCIM_BRIDGE_LDAP_BIND_DN: samba.adminDn,
        SCIM_BRIDGE_LDAP_BIND_PASSWORD: samba.adminPassword,
        SCIM_BRIDGE_LDAP_TLS_CA_FILE: samba.caFile,
        SCIM_BRIDGE_LDAP_TLS_SERVER_NAME: samba.serverName,
        SCIM_BRIDGE_MAPPINGS_DIR: 'mappings/activedirectory',
      },
    });
    console.info(`samba AD DC ready in ${sambaMs} ms, bridge in ${Date.now() - started - sambaMs} ms`);
  }, 90_000);

  afterAll(async () => {
    await ldap?.unbind().catch(() => {});
    await t?.stop();
    await samba?.stop();
  }, 30_000);

  let aliceId = '';
  const aliceDn = 'CN=alice,CN=Users,DC=example,DC=test';

  it('creates a user whose id is the objectGUID and reads it back by id and by userName', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'alice',
      name: { givenName: 'Alice', familyName: 'Liddell' },
      displayName: 'Alice Liddell',
      emails: [{ type: 'work', value: 'alice@example.test', primary: true }],
    });
    expect(r.status, r.text).toBe(201);
    aliceId = r.body.id;
    const entry = await raw(aliceDn, [
      'objectGUID',
      'sAMAccountName',
      'uSNChanged',
      'userAccountControl',
      'mail',
    ]);
    expect(entry).toBeDefined();
    expect(Buffer.isBuffer(entry?.objectGUID)).toBe(true);
    expect(aliceId).toBe(guidToString(entry?.objectGUID as Buffer));
    expect(entry?.sAMAccountName).toBe('alice');
    expect(entry?.mail).toBe('alice@example.test');
    expect(r.body.meta.version).toContain(String(entry?.uSNChanged));
    // Created disabled (the preset's default) as NORMAL_ACCOUNT | ACCOUNTDISABLE.
    expect(r.body.active).toBe(false);
    expect(Number(entry?.userAccountControl) & 2).toBe(2);

    const got = await t.request('GET', `/Users/${aliceId}`);
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({
      id: aliceId,
      userName: 'alice',
      name: { givenName: 'Alice', familyName: 'Liddell' },
      emails: [{ type: 'work', value: 'alice@example.test' }],
    });

    const listed = await t.request('GET', `/Users?filter=${encodeURIComponent('userName eq "alice"')}`);
    expect(listed.status, listed.text).toBe(200);
    expect(listed.body.totalResults).toBe(1);
    expect(listed.body.Resources[0].id).toBe(aliceId);

    const byId = await t.request('GET', `/Users?filter=${encodeURIComponent(`id eq "${aliceId}"`)}`);
    expect(byId.status, byId.text).toBe(200);
    expect(byId.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['alice']);
  });

  it('PATCH active false sets only the ACCOUNTDISABLE bit of userAccountControl', async () => {
    // An enabled account with DONT_EXPIRE_PASSWORD | PASSWD_NOTREQD | NORMAL_ACCOUNT, set directly.
    await ldap.modify(aliceDn, [
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'userAccountControl', values: [String(0x10000 | 0x20 | 0x200)] }),
      }),
    ]);
    const before = await t.request('GET', `/Users/${aliceId}`);
    expect(before.body.active).toBe(true);

    const r = await t.request('PATCH', `/Users/${aliceId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.active).toBe(false);
    const entry = await raw(aliceDn, ['userAccountControl']);
    expect(Number(entry?.userAccountControl)).toBe(0x10000 | 0x20 | 0x200 | 0x2);

    const inactive = await t.request(
      'GET',
      `/Users?filter=${encodeURIComponent('active eq false and userName eq "alice"')}`,
    );
    expect(inactive.status, inactive.text).toBe(200);
    expect(inactive.body.totalResults).toBe(1);
  });

  it('If-Match: AD has no RFC 4528 assertion control, so a conditional write is refused clearly and changes nothing', async () => {
    const got = await t.request('GET', `/Users/${aliceId}`);
    const etag = got.headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\/"\d+"$/);
    const r = await t.request(
      'PATCH',
      `/Users/${aliceId}`,
      { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Dr' }] },
      { 'If-Match': etag },
    );
    expect(r.status, r.text).toBe(403);
    expect(r.body.detail).toMatch(/assertion control \(RFC 4528\).*retry without If-Match/);
    expect((await raw(aliceDn, ['title']))?.title).toEqual([]);
    // /ServiceProviderConfig says so (RFC 7643 §5: one flag for ETags; If-Match is what it promises).
    expect((await t.request('GET', '/ServiceProviderConfig')).body.etag).toEqual({ supported: false });
    // GET with If-None-Match needs no control: 304 works on AD.
    expect((await t.request('GET', `/Users/${aliceId}`, undefined, { 'If-None-Match': etag })).status).toBe(
      304,
    );
  });

  it('renames a user (modifyDN): the objectGUID id survives', async () => {
    const r = await t.request('PATCH', `/Users/${aliceId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'userName', value: 'alice2' }],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ id: aliceId, userName: 'alice2' });
    expect(await raw(aliceDn, ['cn']).catch(() => undefined)).toBeUndefined();
    const moved = await raw('CN=alice2,CN=Users,DC=example,DC=test', ['objectGUID', 'sAMAccountName']);
    expect(guidToString(moved?.objectGUID as Buffer)).toBe(aliceId);
    expect(moved?.sAMAccountName).toBe('alice2');
  });

  it('groups: create with members, PATCH add/remove member, memberOf, delete', async () => {
    const bob = await t.request('POST', '/Users', { schemas: [USER], userName: 'bob' });
    expect(bob.status, bob.text).toBe(201);
    const bobDn = 'CN=bob,CN=Users,DC=example,DC=test';
    const aliceNowDn = 'CN=alice2,CN=Users,DC=example,DC=test';

    const created = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineers',
      members: [{ value: aliceId }],
    });
    expect(created.status, created.text).toBe(201);
    const groupId = created.body.id;
    const groupDn = `CN=Engineers,${groupsOu}`;
    const entry = await raw(groupDn, ['objectGUID', 'member', 'sAMAccountName']);
    expect(guidToString(entry?.objectGUID as Buffer)).toBe(groupId);
    expect(entry?.sAMAccountName).toBe('Engineers');
    expect(values(entry?.member).map((d) => d.toLowerCase())).toEqual([aliceNowDn.toLowerCase()]);

    const add = await t.request('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: bob.body.id }] }],
    });
    expect(add.status, add.text).toBe(204);
    expect(
      values((await raw(groupDn, ['member']))?.member)
        .map((d) => d.toLowerCase())
        .sort(),
    ).toEqual([aliceNowDn.toLowerCase(), bobDn.toLowerCase()].sort());
    // AD maintains memberOf; the preset derives SCIM groups from it.
    const bobRead = await t.request('GET', `/Users/${bob.body.id}`);
    expect(bobRead.body.groups?.map((g: { value: string }) => g.value)).toEqual([groupId]);

    const got = await t.request('GET', `/Groups/${groupId}`);
    expect(got.status, got.text).toBe(200);
    expect(got.body.members.map((m: { value: string }) => m.value).sort()).toEqual(
      [aliceId, bob.body.id].sort(),
    );

    const remove = await t.request('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${aliceId}"]` }],
    });
    expect(remove.status, remove.text).toBe(204);
    expect(values((await raw(groupDn, ['member']))?.member).map((d) => d.toLowerCase())).toEqual([
      bobDn.toLowerCase(),
    ]);

    const filtered = await t.request(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "Engineers"')}`,
    );
    expect(filtered.body.totalResults).toBe(1);

    const renamed = await t.request('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'Engineering' }],
    });
    expect(renamed.status, renamed.text).toBe(204);
    const renamedEntry = await raw(`CN=Engineering,${groupsOu}`, ['objectGUID', 'member', 'sAMAccountName']);
    expect(guidToString(renamedEntry?.objectGUID as Buffer)).toBe(groupId);
    expect(values(renamedEntry?.member).map((d) => d.toLowerCase())).toEqual([bobDn.toLowerCase()]);
    // sAMAccountName is computed from displayName, so it follows the rename.
    expect(renamedEntry?.sAMAccountName).toBe('Engineering');
    const groupDnNow = `CN=Engineering,${groupsOu}`;

    const del = await t.request('DELETE', `/Groups/${groupId}`);
    expect(del.status, del.text).toBe(204);
    expect(await raw(groupDnNow, ['cn']).catch(() => undefined)).toBeUndefined();
    expect((await t.request('GET', `/Groups/${groupId}`)).status).toBe(404);

    const delUser = await t.request('DELETE', `/Users/${bob.body.id}`);
    expect(delUser.status, delUser.text).toBe(204);
    expect(await raw(bobDn, ['cn']).catch(() => undefined)).toBeUndefined();
  });

  it('password -> unicodePwd over LDAPS: the user binds with it; a PATCH changes it; never returned', async () => {
    const daveDn = 'CN=dave,CN=Users,DC=example,DC=test';
    const tls = { ca: readFileSync(samba.caFile), servername: samba.serverName };
    const bindsWith = async (password: string): Promise<boolean> => {
      const client = new Client({ url: samba.ldapsUrl, tlsOptions: tls });
      try {
        await client.bind(daveDn, password);
        return true;
      } catch (error) {
        if (error instanceof InvalidCredentialsError) return false;
        throw error;
      } finally {
        await client.unbind().catch(() => {});
      }
    };
    const created = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'dave',
      password: 'First-pässword1',
      active: true,
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.password).toBeUndefined();
    expect(created.body.active).toBe(true);
    expect(Number((await raw(daveDn, ['userAccountControl']))?.userAccountControl) & 2).toBe(0);
    expect(await bindsWith('First-pässword1')).toBe(true);
    expect(await bindsWith('wrong-password')).toBe(false);

    const changed = await t.request('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'password', value: 'Second-€-password2' }],
    });
    expect(changed.status, changed.text).toBe(200);
    expect(changed.body.password).toBeUndefined();
    expect(await bindsWith('Second-€-password2')).toBe(true);
    // Like AD (OldPasswordAllowedPeriod), Samba still accepts the one previous password for a
    // while, whatever `old password allowed period` says; the one before that is gone at once.
    const again = await t.request('PATCH', `/Users/${created.body.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'password', value: 'Third-password3' }],
    });
    expect(again.status, again.text).toBe(200);
    expect(await bindsWith('Third-password3')).toBe(true);
    expect(await bindsWith('First-pässword1')).toBe(false);
    expect((await t.request('GET', `/Users/${created.body.id}`)).body.password).toBeUndefined();
  });

  it('a group of 1600 members (more than AD MaxValRange): GET returns all; ranged reads are followed', async () => {
    const count = 1600;
    const dns = Array.from({ length: count }, (_, i) => `CN=m${i},CN=Users,DC=example,DC=test`);
    const started = Date.now();
    const lanes = 8;
    await Promise.all(
      Array.from({ length: lanes }, async (_, lane) => {
        for (let i = lane; i < count; i += lanes) {
          await ldap.add(dns[i] as string, [
            new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
            new Attribute({ type: 'sAMAccountName', values: [`m${i}`] }),
          ]);
        }
      }),
    );
    const groupDn = `CN=Big,${groupsOu}`;
    await ldap.add(groupDn, [
      new Attribute({ type: 'objectClass', values: ['top', 'group'] }),
      new Attribute({ type: 'sAMAccountName', values: ['Big'] }),
      new Attribute({ type: 'member', values: dns }),
    ]);
    console.info(`seeded ${count} members in ${Date.now() - started} ms`);
    const guid = guidToString((await raw(groupDn, ['objectGUID']))?.objectGUID as Buffer);

    let at = Date.now();
    const got = await t.request('GET', `/Groups/${guid}`);
    expect(got.status, got.text).toBe(200);
    expect(got.body.members).toHaveLength(count);
    console.info(`GET of the ${count}-member group: ${Date.now() - at} ms`);

    // Samba applies ranges only when asked (real AD also unasked, past MaxValRange=1500): ask for
    // the first window, so the adapter must follow Samba's own `member;range=500-*` answer.
    at = Date.now();
    const ranged = await t.bridge.directory.read(groupDn, ['member;range=0-499', 'cn']);
    console.info(`adapter read from member;range=0-499: ${Date.now() - at} ms`);
    expect(Object.keys(ranged?.attributes ?? {}).sort()).toEqual(['cn', 'member']);
    const read = (ranged?.attributes.member ?? []).map((d) => String(d).toLowerCase());
    expect(read).toHaveLength(count);
    expect(new Set(read)).toEqual(new Set(dns.map((d) => d.toLowerCase())));

    // Adding one member is one value add, whatever the group's size.
    const carol = await t.request('POST', '/Users', { schemas: [USER], userName: 'carol' });
    expect(carol.status, carol.text).toBe(201);
    at = Date.now();
    const add = await t.request('PATCH', `/Groups/${guid}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: carol.body.id }] }],
    });
    expect(add.status, add.text).toBe(204);
    console.info(`PATCH add one member to the ${count}-member group: ${Date.now() - at} ms`);
    expect(values((await raw(groupDn, ['member']))?.member)).toHaveLength(count + 1);

    // RFC 9865 cursors over AD's paged results (with its server-side sort): every one of the
    // 1,600 members and carol once, past AD's MaxPageSize of 1000 per search, in userName order.
    at = Date.now();
    const names: string[] = [];
    let cursor = '';
    let total = 0;
    for (let page = 0; page < 20; page++) {
      const r = await t.request(
        'GET',
        `/Users?sortBy=userName&count=250&cursor=${encodeURIComponent(cursor)}`,
      );
      expect(r.status, r.text).toBe(200);
      total = r.body.totalResults;
      names.push(...r.body.Resources.map((u: { userName: string }) => u.userName));
      if (!r.body.nextCursor) break;
      cursor = r.body.nextCursor;
    }
    console.info(`cursor walk of ${names.length} users: ${Date.now() - at} ms`);
    expect(names).toHaveLength(total);
    expect(new Set(names).size).toBe(total);
    for (let i = 0; i < count; i++) expect(names).toContain(`m${i}`);
    expect(names).toContain('carol');
    const lower = names.map((n) => n.toLowerCase());
    expect(lower).toEqual([...lower].sort());
  }, 120_000);

  it("VLV pages from the list Samba kept: never another query's, never older than sortedListReuseMs", async () => {
    // Samba answers a VLV contextID from the list it names whatever the filter, and names that
    // list anew on every page: the adapter must pin a list to its query and count its age from
    // the first sort. Entries are added with the raw client, behind the adapter's back.
    const ou = 'OU=VlvPeople,DC=example,DC=test';
    await ldap.add(ou, [
      new Attribute({ type: 'objectClass', values: ['top', 'organizationalUnit'] }),
      new Attribute({ type: 'ou', values: ['VlvPeople'] }),
    ]);
    const addPerson = (cn: string) =>
      ldap.add(`CN=${cn},${ou}`, [
        new Attribute({ type: 'objectClass', values: ['top', 'person', 'organizationalPerson', 'user'] }),
        new Attribute({ type: 'cn', values: [cn] }),
        new Attribute({ type: 'sAMAccountName', values: [cn] }),
      ]);
    for (let i = 1; i <= 6; i++) await addPerson(`vlv${i}`);
    const reuseMs = 500;
    const directory = createLdapDirectory({
      url: samba.ldapsUrl,
      bindDn: samba.adminDn,
      bindPassword: samba.adminPassword,
      tls: { ca: readFileSync(samba.caFile), serverName: samba.serverName },
      poolSize: 1,
      sortedListReuseMs: reuseMs,
      connectTimeoutMs: 2_000,
      operationTimeoutMs: 5_000,
    });
    const page = (filter: { type: 'substring'; attribute: string; initial: string; any: string[] }) =>
      directory.search({
        base: ou,
        scope: 'one',
        filter,
        attributes: ['cn'],
        sort: [{ attribute: 'cn' }],
        page: { kind: 'offset', startIndex: 1, count: 3 },
      });
    const cns = (result: { entries: Array<{ attributes: Record<string, unknown[]> }> }) =>
      result.entries.map((entry) => String(entry.attributes.cn?.[0]));
    const everyone = { type: 'substring' as const, attribute: 'cn', initial: 'vlv', any: [] };
    try {
      // Connect and learn the server's controls first, so the list's age starts with the page below.
      await page({ type: 'substring', attribute: 'cn', initial: 'vlv5', any: [] });
      const first = await page(everyone);
      // The list's age counts from before the first sort, so it has expired by firstAnsweredAt + reuseMs.
      const firstAnsweredAt = Date.now();
      expect(first.total).toBe(6);
      expect(cns(first)).toEqual(['vlv1', 'vlv2', 'vlv3']);

      await addPerson('vlv0');
      // Another query on the same connection: its own search, not the kept list.
      const other = await page({ type: 'substring', attribute: 'cn', initial: 'vlv4', any: [] });
      expect(other.total).toBe(1);
      expect(cns(other)).toEqual(['vlv4']);
      // The same query within the reuse time: the kept list, without vlv0, read twice.
      const kept = await page(everyone);
      expect(kept.total).toBe(6);
      expect(cns(kept)).toEqual(['vlv1', 'vlv2', 'vlv3']);
      await new Promise((resolve) => setTimeout(resolve, reuseMs * 0.6));
      expect((await page(everyone)).total).toBe(6);
      // Past the reuse time counted from the first sort (not from the last page): sorted afresh.
      await new Promise((resolve) =>
        setTimeout(resolve, Math.max(0, firstAnsweredAt + reuseMs + 50 - Date.now())),
      );
      const fresh = await page(everyone);
      expect(fresh.total).toBe(7);
      expect(cns(fresh)).toEqual(['vlv0', 'vlv1', 'vlv2']);
    } finally {
      await directory.close();
    }
  }, 30_000);
});
