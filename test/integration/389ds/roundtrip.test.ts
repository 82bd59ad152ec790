/**
 * The 389-DS preset (mappings/389ds) against a real 389 Directory Server: SCIM -> LDAP -> SCIM round
 * trips, checked in the directory with a separate ldapts client bound as cn=Directory Manager.
 *
 * Needs `apt-get install 389-ds-base` (and, as root, its `dirsrv` user); without it it is skipped,
 * in CI it fails (test/harness/prerequisites.ts). Start-up ~1 s on a free port. Run alone:
 * npx vitest run test/integration/389ds
 */
import { readFile } from 'node:fs/promises';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { missingDirsrvBinaries, type RunningDirsrv, startDirsrv } from '../../../src/localdev/dirsrv.ts';
import { type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { skipWithout } from '../../harness/prerequisites.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SUITE = '389-DS preset against a real 389 Directory Server';
/** 389's nsUniqueId: four dash-separated groups of 8 hex digits (not an RFC 4122 UUID). */
const NS_UNIQUE_ID = /^[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/;

describe.skipIf(skipWithout(SUITE, missingDirsrvBinaries()))(SUITE, () => {
  let ds: RunningDirsrv;
  let t: TestBridge;
  let ldap: Client;
  const people = 'ou=People,dc=example,dc=com';
  const groups = 'ou=Groups,dc=example,dc=com';

  async function raw(dn: string, attributes: string[]): Promise<Record<string, unknown> | undefined> {
    try {
      const { searchEntries } = await ldap.search(dn, { scope: 'base', attributes });
      return searchEntries[0];
    } catch (error) {
      if ((error as { code?: number }).code === 32) return undefined; // noSuchObject
      throw error;
    }
  }

  function values(v: unknown): string[] {
    return (Array.isArray(v) ? v : v === undefined ? [] : [v]).map(String);
  }

  const lower = (dns: string[]) => dns.map((d) => d.toLowerCase()).sort();

  /** A SCIM GET and the access-log lines 389 wrote meanwhile (SORT, VLV, paged per operation). */
  async function getLogged(path: string): Promise<{ r: ScimResponse; log: string[] }> {
    const before = (await readFile(ds.accessLog, 'utf8')).length;
    const r = await t.request('GET', path);
    return { r, log: (await readFile(ds.accessLog, 'utf8')).slice(before).split('\n') };
  }

  /** Resolves at the start of the next wall-clock second (modifyTimestamp has 1 s resolution). */
  async function nextSecond(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, 1_000 - (Date.now() % 1_000) + 20));
  }

  beforeAll(async () => {
    const started = Date.now();
    ds = await startDirsrv();
    const dsMs = Date.now() - started;
    ldap = new Client({ url: ds.url, timeout: 10_000 });
    await ldap.bind(ds.rootDn, ds.rootPassword);
    t = await startTestBridge({
      env: {
        SCIM_BRIDGE_LDAP_URL: ds.url,
        SCIM_BRIDGE_LDAP_BIND_DN: ds.serviceDn,
        SCIM_BRIDGE_LDAP_BIND_PASSWORD: ds.servicePassword,
        SCIM_BRIDGE_MAPPINGS_DIR: 'mappings/389ds',
      },
    });
    console.info(
      `389-DS ready in ${dsMs} ms (ns-slapd ${ds.startMs} ms), bridge in ${Date.now() - started - dsMs} ms`,
    );
  }, 60_000);

  afterAll(async () => {
    await ldap?.unbind().catch(() => {});
    await t?.stop();
    const stopping = Date.now();
    await ds?.stop();
    if (ds) console.info(`389-DS stopped and removed in ${Date.now() - stopping} ms`);
  }, 30_000);

  it('the bridge sees a 389-DS with paging, sort and VLV but no assertion control', async () => {
    const capabilities = await t.bridge.directory.capabilities();
    expect(capabilities).toMatchObject({
      vendor: '389ds',
      pagedResults: true,
      serverSideSort: true,
      virtualListView: true,
      assertion: false,
    });
  });

  let aliceId = '';
  const aliceDn = `uid=alice,${people}`;

  it('POST /Users: id is the nsUniqueId, meta.version the modifyTimestamp, attributes land in the entry', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER, ENTERPRISE],
      userName: 'alice',
      name: { givenName: 'Alice', familyName: 'Liddell' },
      displayName: 'Alice Liddell',
      title: 'Explorer',
      emails: [{ type: 'work', value: 'alice@example.com', primary: true }],
      phoneNumbers: [
        { type: 'work', value: '+44 1865 000001' },
        { type: 'mobile', value: '+44 7700 900001' },
      ],
      [ENTERPRISE]: { employeeNumber: 'E-1001', department: 'Wonderland' },
    });
    expect(r.status, r.text).toBe(201);
    aliceId = r.body.id;
    expect(aliceId).toMatch(NS_UNIQUE_ID);
    const entry = await raw(aliceDn, [
      'nsUniqueId',
      'modifyTimestamp',
      'objectClass',
      'cn',
      'sn',
      'givenName',
      'displayName',
      'title',
      'mail',
      'telephoneNumber',
      'mobile',
      'employeeNumber',
      'departmentNumber',
      'nsAccountLock',
    ]);
    expect(entry).toBeDefined();
    expect(entry?.nsUniqueId).toBe(aliceId);
    expect(r.body.meta.version).toBe(`W/"${String(entry?.modifyTimestamp)}"`);
    expect(r.headers.get('etag')).toBe(r.body.meta.version);
    expect(r.headers.get('location')).toMatch(new RegExp(`/Users/${aliceId}$`));
    expect(lower(values(entry?.objectClass))).toEqual(
      expect.arrayContaining(['inetorgperson', 'organizationalperson', 'person', 'top']),
    );
    expect(entry).toMatchObject({
      cn: 'Alice Liddell',
      sn: 'Liddell',
      givenName: 'Alice',
      displayName: 'Alice Liddell',
      title: 'Explorer',
      mail: 'alice@example.com',
      telephoneNumber: '+44 1865 000001',
      mobile: '+44 7700 900001',
      employeeNumber: 'E-1001',
      departmentNumber: 'Wonderland',
    });
    // active defaults to true: nothing locks the account.
    expect(r.body.active).toBe(true);
    expect(values(entry?.nsAccountLock).map((v) => v.toLowerCase())).not.toContain('true');

    const got = await t.request('GET', `/Users/${aliceId}`);
    expect(got.status, got.text).toBe(200);
    expect(got.body).toMatchObject({
      id: aliceId,
      userName: 'alice',
      name: { givenName: 'Alice', familyName: 'Liddell' },
      displayName: 'Alice Liddell',
      title: 'Explorer',
      active: true,
      emails: [{ type: 'work', value: 'alice@example.com', primary: true }],
      [ENTERPRISE]: { employeeNumber: 'E-1001', department: 'Wonderland' },
      meta: { resourceType: 'User', version: r.body.meta.version },
    });
    expect(got.body.phoneNumbers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'work', value: '+44 1865 000001' }),
        expect.objectContaining({ type: 'mobile', value: '+44 7700 900001' }),
      ]),
    );

    const dup = await t.request('POST', '/Users', { schemas: [USER], userName: 'alice' });
    expect(dup.status, dup.text).toBe(409);
    expect(dup.body.scimType).toBe('uniqueness');
  });

  it('PATCH: replaces and removes attributes; meta.version follows modifyTimestamp (1 s resolution)', async () => {
    const before = await t.request('GET', `/Users/${aliceId}`);
    await nextSecond();
    const r = await t.request('PATCH', `/Users/${aliceId}`, {
      schemas: [PATCH],
      Operations: [
        { op: 'replace', path: 'title', value: 'Queen' },
        { op: 'remove', path: 'phoneNumbers[type eq "mobile"]' },
        { op: 'replace', path: 'name.givenName', value: 'Alicia' },
      ],
    });
    expect(r.status, r.text).toBe(200);
    const entry = await raw(aliceDn, ['title', 'mobile', 'givenName', 'telephoneNumber', 'modifyTimestamp']);
    expect(entry?.title).toBe('Queen');
    expect(entry?.givenName).toBe('Alicia');
    expect(values(entry?.mobile)).toEqual([]);
    expect(entry?.telephoneNumber).toBe('+44 1865 000001');
    expect(r.body.meta.version).toBe(`W/"${String(entry?.modifyTimestamp)}"`);
    expect(r.body.meta.version).not.toBe(before.body.meta.version);
    expect(r.body).toMatchObject({ title: 'Queen', name: { givenName: 'Alicia' } });
    expect(r.body.phoneNumbers.map((p: { type: string }) => p.type)).toEqual(['work']);

    // If-None-Match with the current ETag: 304; with the old one: 200.
    const etag = r.headers.get('etag') ?? '';
    expect((await t.request('GET', `/Users/${aliceId}`, undefined, { 'If-None-Match': etag })).status).toBe(
      304,
    );
    const stale = before.headers.get('etag') ?? '';
    expect((await t.request('GET', `/Users/${aliceId}`, undefined, { 'If-None-Match': stale })).status).toBe(
      200,
    );
  });

  it('two writes within one second share an ETag (the documented modifyTimestamp weakness)', async () => {
    await nextSecond();
    const first = await t.request('PATCH', `/Users/${aliceId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'title', value: 'Duchess' }],
    });
    const firstStamp = String((await raw(aliceDn, ['modifyTimestamp']))?.modifyTimestamp);
    const second = await t.request('PATCH', `/Users/${aliceId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'title', value: 'Cook' }],
    });
    const secondStamp = String((await raw(aliceDn, ['modifyTimestamp']))?.modifyTimestamp);
    expect(first.status, first.text).toBe(200);
    expect(second.status, second.text).toBe(200);
    expect(first.body.meta.version).toBe(`W/"${firstStamp}"`);
    expect(second.body.meta.version).toBe(`W/"${secondStamp}"`);
    expect((await raw(aliceDn, ['title']))?.title).toBe('Cook');
    // Both writes normally land in the same second (they take milliseconds); if the machine was
    // slow enough to cross a second boundary, the ETags differ, as they should.
    if (firstStamp === secondStamp) expect(second.body.meta.version).toBe(first.body.meta.version);
    else expect(second.body.meta.version).not.toBe(first.body.meta.version);
  });

  it('If-Match on a write is refused: 389-DS has no assertion control (RFC 4528); nothing changes', async () => {
    const got = await t.request('GET', `/Users/${aliceId}`);
    const etag = got.headers.get('etag') ?? '';
    expect(etag).toMatch(/^W\/"\d{14}Z"$/);
    const r = await t.request(
      'PATCH',
      `/Users/${aliceId}`,
      { schemas: [PATCH], Operations: [{ op: 'replace', path: 'title', value: 'Knave' }] },
      { 'If-Match': etag },
    );
    expect(r.status, r.text).toBe(403);
    expect(r.body.detail).toMatch(/assertion control \(RFC 4528\).*retry without If-Match/);
    expect((await raw(aliceDn, ['title']))?.title).toBe('Cook');
  });

  it('and /ServiceProviderConfig says so: etag.supported is false on 389-DS (RFC 7643 §5)', async () => {
    const spc = await t.request('GET', '/ServiceProviderConfig');
    expect(spc.body.etag).toEqual({ supported: false });
  });

  it('PUT replaces the whole resource: omitted attributes are removed from the entry', async () => {
    await nextSecond();
    const before = await raw(aliceDn, ['modifyTimestamp']);
    const r = await t.request('PUT', `/Users/${aliceId}`, {
      schemas: [USER],
      userName: 'alice',
      name: { givenName: 'Alice', familyName: 'Pleasance' },
      displayName: 'Alice P. Liddell',
      emails: [{ type: 'work', value: 'alice.liddell@example.com', primary: true }],
    });
    expect(r.status, r.text).toBe(200);
    const entry = await raw(aliceDn, [
      'nsUniqueId',
      'sn',
      'displayName',
      'mail',
      'title',
      'telephoneNumber',
      'employeeNumber',
      'modifyTimestamp',
    ]);
    expect(entry).toMatchObject({
      nsUniqueId: aliceId,
      sn: 'Pleasance',
      displayName: 'Alice P. Liddell',
      mail: 'alice.liddell@example.com',
    });
    expect(values(entry?.title)).toEqual([]);
    expect(values(entry?.telephoneNumber)).toEqual([]);
    expect(values(entry?.employeeNumber)).toEqual([]);
    expect(entry?.modifyTimestamp).not.toBe(before?.modifyTimestamp);
    expect(r.body.meta.version).toBe(`W/"${String(entry?.modifyTimestamp)}"`);
    expect(r.body.title).toBeUndefined();
    expect(r.body.phoneNumbers).toBeUndefined();
    expect(r.body.name).toMatchObject({ givenName: 'Alice', familyName: 'Pleasance' });
  });

  it('lists with filters, sorting and paging run in the directory', async () => {
    for (const [userName, familyName] of [
      ['bob', 'Builder'],
      ['carol', 'Danvers'],
      ['dave', 'Bowman'],
    ] as const) {
      const r = await t.request('POST', '/Users', { schemas: [USER], userName, name: { familyName } });
      expect(r.status, r.text).toBe(201);
    }

    const byName = await t.request('GET', `/Users?filter=${encodeURIComponent('userName eq "alice"')}`);
    expect(byName.status, byName.text).toBe(200);
    expect(byName.body.totalResults).toBe(1);
    expect(byName.body.Resources[0].id).toBe(aliceId);

    const byId = await t.request('GET', `/Users?filter=${encodeURIComponent(`id eq "${aliceId}"`)}`);
    expect(byId.status, byId.text).toBe(200);
    expect(byId.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['alice']);

    const byFamily = await t.request(
      'GET',
      `/Users?filter=${encodeURIComponent('name.familyName sw "B"')}&sortBy=userName`,
    );
    expect(byFamily.status, byFamily.text).toBe(200);
    expect(byFamily.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['bob', 'dave']);

    const byEmail = await t.request(
      'GET',
      `/Users?filter=${encodeURIComponent('emails.value co "liddell@"')}`,
    );
    expect(byEmail.status, byEmail.text).toBe(200);
    expect(byEmail.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['alice']);

    // Sorted window: server-side sort + VLV in 389 (its access log shows both controls on the
    // search): the 2nd and 3rd of alice, bob, carol, dave.
    const { r: window, log } = await getLogged('/Users?sortBy=userName&startIndex=2&count=2');
    expect(window.status, window.text).toBe(200);
    expect(window.body.totalResults).toBe(4);
    expect(window.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['bob', 'carol']);
    expect(log.some((line) => / SORT uid\b/.test(line))).toBe(true);
    // "VLV before:after:index:contentCount targetPosition:contentCount (result)": at 2 of 4.
    expect(log.some((line) => / VLV 0:1:\d+:0 2:4 \(0\)/.test(line))).toBe(true);
    const descending = await t.request('GET', '/Users?sortBy=userName&sortOrder=descending&count=2');
    expect(descending.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['dave', 'carol']);

    // Without sortBy the preset's default sort (uid) still applies: pages are VLV windows too.
    const { r: page1, log: pageLog } = await getLogged('/Users?startIndex=1&count=2');
    const page2 = await t.request('GET', '/Users?startIndex=3&count=2');
    expect(page1.body.totalResults).toBe(4);
    const seen = [...page1.body.Resources, ...page2.body.Resources].map(
      (u: { userName: string }) => u.userName,
    );
    expect(seen).toEqual(['alice', 'bob', 'carol', 'dave']);
    expect(pageLog.some((line) => / VLV 0:1:\d+:0 1:4 \(0\)/.test(line))).toBe(true);

    // Pages larger than the adapter's VLV window (500) are read as VLV windows of 500 from one
    // sorted list (issue 17), not as a walk of simple paged results over the whole sorted result.
    const { r: big, log: pagedLog } = await getLogged('/Users?count=600');
    expect(big.status, big.text).toBe(200);
    expect(big.body.Resources.map((u: { userName: string }) => u.userName)).toEqual([
      'alice',
      'bob',
      'carol',
      'dave',
    ]);
    expect(pagedLog.some((line) => / SORT uid\b/.test(line))).toBe(true);
    expect(pagedLog.some((line) => / VLV 0:499:\d+:0 1:4 \(0\)/.test(line))).toBe(true);
    expect(pagedLog.some((line) => /notes=P details="Paged Search"/.test(line))).toBe(false);

    // RFC 9865 cursors: one sorted paged search, continued through its cookie, then the same walk
    // with a handle this instance does not hold, answered by position.
    const cursorWalk = async (rewrite: (cursor: string) => string) => {
      const names: string[] = [];
      const logs: string[] = [];
      let cursor = '';
      for (let page = 0; page < 5; page++) {
        const { r, log: lines } = await getLogged(
          `/Users?sortBy=userName&count=2&cursor=${encodeURIComponent(cursor)}`,
        );
        expect(r.status, r.text).toBe(200);
        expect(r.body.totalResults).toBe(4);
        names.push(...r.body.Resources.map((u: { userName: string }) => u.userName));
        logs.push(...lines);
        if (!r.body.nextCursor) break;
        cursor = rewrite(r.body.nextCursor);
      }
      return { names, logs };
    };
    const held = await cursorWalk((cursor) => cursor);
    expect(held.names).toEqual(['alice', 'bob', 'carol', 'dave']);
    // Both pages are results of paged searches on one connection (the session's), the last one
    // ending the search (pr_cookie=-1); the first page counted the matches with a VLV content count.
    const pagedResults = held.logs.filter((line) =>
      /RESULT .*nentries=2 .*notes=P details="Paged Search"/.test(line),
    );
    expect(pagedResults).toHaveLength(2);
    expect(new Set(pagedResults.map((line) => /conn=(\d+)/.exec(line)?.[1])).size).toBe(1);
    expect(pagedResults[1]).toMatch(/pr_cookie=-1/);
    expect(held.logs.some((line) => / SORT uid\b/.test(line))).toBe(true);
    const foreign = await cursorWalk((cursor) => {
      const [position, total, , key] = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
      return Buffer.from(`${position}.${total}.${'x'.repeat(22)}.${key}`, 'utf8').toString('base64url');
    });
    expect(foreign.names).toEqual(['alice', 'bob', 'carol', 'dave']);
  });

  it('active=false sets nsAccountLock: TRUE (the server then refuses the user to bind); active=true unlocks', async () => {
    const bob = (await t.request('GET', `/Users?filter=${encodeURIComponent('userName eq "bob"')}`)).body
      .Resources[0];
    const bobDn = `uid=bob,${people}`;
    // Give bob a password directly, so the lock can be observed as the server enforces it.
    await ldap.modify(bobDn, [
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'userPassword', values: ['bob-Secret-1'] }),
      }),
    ]);
    const bindsAsBob = async (): Promise<string> => {
      const client = new Client({ url: ds.url });
      try {
        await client.bind(bobDn, 'bob-Secret-1');
        return 'ok';
      } catch (error) {
        return (error as Error).message;
      } finally {
        await client.unbind().catch(() => {});
      }
    };
    expect(await bindsAsBob()).toBe('ok');

    const r = await t.request('PATCH', `/Users/${bob.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: false }],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body.active).toBe(false);
    expect(values((await raw(bobDn, ['nsAccountLock']))?.nsAccountLock).map((v) => v.toLowerCase())).toEqual([
      'true',
    ]);
    expect(await bindsAsBob()).toMatch(/inactivated|unwilling|locked/i);

    const inactive = await t.request('GET', `/Users?filter=${encodeURIComponent('active eq false')}`);
    expect(inactive.status, inactive.text).toBe(200);
    expect(inactive.body.Resources.map((u: { userName: string }) => u.userName)).toEqual(['bob']);
    const active = await t.request(
      'GET',
      `/Users?filter=${encodeURIComponent('active eq true')}&sortBy=userName`,
    );
    expect(active.status, active.text).toBe(200);
    expect(active.body.Resources.map((u: { userName: string }) => u.userName)).toEqual([
      'alice',
      'carol',
      'dave',
    ]);

    const back = await t.request('PATCH', `/Users/${bob.id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'active', value: true }],
    });
    expect(back.status, back.text).toBe(200);
    expect(back.body.active).toBe(true);
    expect(
      values((await raw(bobDn, ['nsAccountLock']))?.nsAccountLock).map((v) => v.toLowerCase()),
    ).not.toContain('true');
    expect(await bindsAsBob()).toBe('ok');
  });

  let groupId = '';
  const groupDn = `cn=Engineers,${groups}`;

  it('groups: create with members, memberOf shows as user.groups, PATCH add/remove member', async () => {
    const list = await t.request('GET', '/Users?sortBy=userName');
    const ids = Object.fromEntries(
      list.body.Resources.map((u: { userName: string; id: string }) => [u.userName, u.id]),
    ) as Record<string, string>;

    const created = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Engineers',
      members: [{ value: aliceId }, { value: ids.bob }],
    });
    expect(created.status, created.text).toBe(201);
    groupId = created.body.id;
    expect(groupId).toMatch(NS_UNIQUE_ID);
    const entry = await raw(groupDn, ['nsUniqueId', 'member', 'objectClass']);
    expect(entry?.nsUniqueId).toBe(groupId);
    expect(lower(values(entry?.member))).toEqual(lower([aliceDn, `uid=bob,${people}`]));
    expect(created.body.members.map((m: { value: string }) => m.value).sort()).toEqual(
      [aliceId, ids.bob].sort(),
    );

    // The MemberOf plug-in wrote memberOf into both users; the preset reads it as groups.
    expect(values((await raw(aliceDn, ['memberOf']))?.memberOf).map((d) => d.toLowerCase())).toEqual([
      groupDn.toLowerCase(),
    ]);
    const alice = await t.request('GET', `/Users/${aliceId}`);
    expect(alice.body.groups?.map((g: { value: string }) => g.value)).toEqual([groupId]);
    expect(alice.body.groups?.[0]?.display).toBe('Engineers');

    const add = await t.request('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: ids.carol }] }],
    });
    expect(add.status, add.text).toBe(204);
    expect(lower(values((await raw(groupDn, ['member']))?.member))).toEqual(
      lower([aliceDn, `uid=bob,${people}`, `uid=carol,${people}`]),
    );
    const carol = await t.request('GET', `/Users/${ids.carol}`);
    expect(carol.body.groups?.map((g: { value: string }) => g.value)).toEqual([groupId]);

    const remove = await t.request('PATCH', `/Groups/${groupId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'remove', path: `members[value eq "${ids.bob}"]` }],
    });
    expect(remove.status, remove.text).toBe(204);
    expect(lower(values((await raw(groupDn, ['member']))?.member))).toEqual(
      lower([aliceDn, `uid=carol,${people}`]),
    );
    expect(values((await raw(`uid=bob,${people}`, ['memberOf']))?.memberOf)).toEqual([]);
    const bob = await t.request('GET', `/Users/${ids.bob}`);
    expect(bob.body.groups ?? []).toEqual([]);

    const got = await t.request('GET', `/Groups/${groupId}`);
    expect(got.status, got.text).toBe(200);
    expect(got.body.members.map((m: { value: string }) => m.value).sort()).toEqual(
      [aliceId, ids.carol].sort(),
    );
    const filtered = await t.request(
      'GET',
      `/Groups?filter=${encodeURIComponent('displayName eq "Engineers"')}`,
    );
    expect(filtered.body.Resources.map((g: { id: string }) => g.id)).toEqual([groupId]);

    // An empty group: 389's groupOfNames does not require member.
    const empty = await t.request('POST', '/Groups', { schemas: [GROUP], displayName: 'Nobody' });
    expect(empty.status, empty.text).toBe(201);
    expect(values((await raw(`cn=Nobody,${groups}`, ['member']))?.member)).toEqual([]);
    const emptyGot = await t.request('GET', `/Groups/${empty.body.id}`);
    expect(emptyGot.body.members ?? []).toEqual([]);
  });

  it('nested groups: members are the direct ones (needs memberOfSkipNested: on), renames follow', async () => {
    // Staff holds the group Engineers (alice, carol). With the MemberOf plug-in's default
    // (nested memberships copied into memberOf), GET /Groups/Staff listed alice and carol as
    // members, a PATCH adding alice to Staff was a silent no-op (she "was" a member), and a PUT
    // restating Staff's own members failed with LDAP 16: see the comment in mappings/389ds/groups.yaml.
    const carolId = (await t.request('GET', `/Users?filter=${encodeURIComponent('userName eq "carol"')}`))
      .body.Resources[0].id;
    const staff = await t.request('POST', '/Groups', {
      schemas: [GROUP],
      displayName: 'Staff',
      members: [{ value: groupId }],
    });
    expect(staff.status, staff.text).toBe(201);
    const staffId = staff.body.id;
    let staffDn = `cn=Staff,${groups}`;
    const staffMembers = async () =>
      (await t.request('GET', `/Groups/${staffId}`)).body.members?.map((m: { value: string }) => m.value) ??
      [];
    expect(staff.body.members).toEqual([expect.objectContaining({ value: groupId, type: 'Group' })]);
    expect(await staffMembers()).toEqual([groupId]);
    expect(values((await raw(aliceDn, ['memberOf']))?.memberOf).map((d) => d.toLowerCase())).toEqual([
      groupDn.toLowerCase(),
    ]);

    const add = await t.request('PATCH', `/Groups/${staffId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'add', path: 'members', value: [{ value: aliceId }] }],
    });
    expect(add.status, add.text).toBe(204);
    expect(lower(values((await raw(staffDn, ['member']))?.member))).toEqual(lower([groupDn, aliceDn]));
    expect((await staffMembers()).sort()).toEqual([aliceId, groupId].sort());
    // Retried add and a remove of a non-member (carol is only an indirect member) change nothing.
    for (const op of [
      { op: 'add', path: 'members', value: [{ value: aliceId }] },
      { op: 'remove', path: `members[value eq "${carolId}"]` },
    ]) {
      const r = await t.request('PATCH', `/Groups/${staffId}`, { schemas: [PATCH], Operations: [op] });
      expect(r.status, r.text).toBe(204);
    }
    expect(lower(values((await raw(staffDn, ['member']))?.member))).toEqual(lower([groupDn, aliceDn]));
    const alice = await t.request('GET', `/Users/${aliceId}`);
    expect(alice.body.groups.map((g: { value: string }) => g.value).sort()).toEqual(
      [groupId, staffId].sort(),
    );

    // PUT restating the direct members: alice leaves, Engineers stays.
    const put = await t.request('PUT', `/Groups/${staffId}`, {
      schemas: [GROUP],
      displayName: 'Staff',
      members: [{ value: groupId }],
    });
    expect(put.status, put.text).toBe(200);
    expect(lower(values((await raw(staffDn, ['member']))?.member))).toEqual(lower([groupDn]));
    expect(put.body.members.map((m: { value: string }) => m.value)).toEqual([groupId]);

    // Renaming the group (displayName is the RDN) keeps its id, and the plug-in rewrites the
    // memberOf of its members. But 389-DS 2.3.1 ignores memberOfSkipNested on this path: the
    // members of the nested group Engineers (alice, carol) get memberOf "All Staff" too, and keep it
    // (a memberOf fixup task does not remove it) until the group is deleted. Pinned here so that a
    // fixed 389-DS shows up; see mappings/389ds/groups.yaml.
    const renamed = await t.request('PATCH', `/Groups/${staffId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'displayName', value: 'All Staff' }],
    });
    expect(renamed.status, renamed.text).toBe(204);
    expect(await raw(staffDn, ['cn'])).toBeUndefined();
    staffDn = `cn=All Staff,${groups}`;
    expect((await raw(staffDn, ['nsUniqueId']))?.nsUniqueId).toBe(staffId);
    expect(lower(values((await raw(groupDn, ['memberOf']))?.memberOf))).toEqual(lower([staffDn]));
    expect(lower(values((await raw(`uid=carol,${people}`, ['memberOf']))?.memberOf))).toEqual(
      lower([groupDn, staffDn]),
    );

    const sorted = await t.request('GET', '/Groups?sortBy=displayName&sortOrder=descending');
    expect(sorted.body.Resources.map((g: { displayName: string }) => g.displayName)).toEqual([
      'Nobody',
      'Engineers',
      'All Staff',
    ]);
    expect((await t.request('DELETE', `/Groups/${staffId}`)).status).toBe(204);
    expect(lower(values((await raw(aliceDn, ['memberOf']))?.memberOf))).toEqual(lower([groupDn]));
    expect(lower(values((await raw(`uid=carol,${people}`, ['memberOf']))?.memberOf))).toEqual(
      lower([groupDn]),
    );
  });

  it('password -> userPassword: stored hashed by 389, the user binds with it, never returned', async () => {
    const r = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'erin',
      password: 'Erin-pässword-1',
    });
    expect(r.status, r.text).toBe(201);
    expect(r.body.password).toBeUndefined();
    const erinDn = `uid=erin,${people}`;
    expect(String((await raw(erinDn, ['userPassword']))?.userPassword)).toMatch(/^\{PBKDF2[-_A-Z0-9]*\}/);
    const client = new Client({ url: ds.url });
    try {
      await client.bind(erinDn, 'Erin-pässword-1');
      await expect(client.bind(erinDn, 'wrong')).rejects.toThrow(/Invalid Credentials|0x31/i);
    } finally {
      await client.unbind().catch(() => {});
    }
    expect((await t.request('GET', `/Users/${r.body.id}`)).body.password).toBeUndefined();
    expect((await t.request('DELETE', `/Users/${r.body.id}`)).status).toBe(204);
  });

  it('renaming a user (userName) keeps the id and the group memberships', async () => {
    const r = await t.request('PATCH', `/Users/${aliceId}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'userName', value: 'alice2' }],
    });
    expect(r.status, r.text).toBe(200);
    expect(r.body).toMatchObject({ id: aliceId, userName: 'alice2' });
    const newDn = `uid=alice2,${people}`;
    expect(await raw(aliceDn, ['uid'])).toBeUndefined();
    const moved = await raw(newDn, ['nsUniqueId', 'uid', 'memberOf']);
    expect(moved?.nsUniqueId).toBe(aliceId);
    expect(moved?.uid).toBe('alice2');
    // The MemberOf plug-in rewrote the group's member value to the new DN.
    expect(lower(values((await raw(groupDn, ['member']))?.member))).toEqual(
      lower([newDn, `uid=carol,${people}`]),
    );
    expect(values(moved?.memberOf).map((d) => d.toLowerCase())).toEqual([groupDn.toLowerCase()]);
    expect(r.body.groups?.map((g: { value: string }) => g.value)).toEqual([groupId]);
    const group = await t.request('GET', `/Groups/${groupId}`);
    expect(group.body.members.map((m: { value: string }) => m.value)).toContain(aliceId);
  });

  it('a PUT of a member keeps memberOf (nsMemberOf object class) and the membership', async () => {
    const r = await t.request('PUT', `/Users/${aliceId}`, {
      schemas: [USER],
      userName: 'alice2',
      name: { familyName: 'Liddell' },
      displayName: 'Alice',
    });
    expect(r.status, r.text).toBe(200);
    const entry = await raw(`uid=alice2,${people}`, ['memberOf', 'objectClass', 'displayName']);
    expect(entry?.displayName).toBe('Alice');
    expect(values(entry?.memberOf).map((d) => d.toLowerCase())).toEqual([groupDn.toLowerCase()]);
    expect(r.body.groups?.map((g: { value: string }) => g.value)).toEqual([groupId]);
  });

  it('DELETE: users and groups leave the directory; a deleted member leaves its groups', async () => {
    const carol = (await t.request('GET', `/Users?filter=${encodeURIComponent('userName eq "carol"')}`)).body
      .Resources[0];
    const delCarol = await t.request('DELETE', `/Users/${carol.id}`);
    expect(delCarol.status, delCarol.text).toBe(204);
    expect(await raw(`uid=carol,${people}`, ['uid'])).toBeUndefined();
    expect((await t.request('GET', `/Users/${carol.id}`)).status).toBe(404);
    // The MemberOf plug-in removes a deleted entry's DN from its groups.
    expect(lower(values((await raw(groupDn, ['member']))?.member))).toEqual(lower([`uid=alice2,${people}`]));

    const delGroup = await t.request('DELETE', `/Groups/${groupId}`);
    expect(delGroup.status, delGroup.text).toBe(204);
    expect(await raw(groupDn, ['cn'])).toBeUndefined();
    expect((await t.request('GET', `/Groups/${groupId}`)).status).toBe(404);
    expect(values((await raw(`uid=alice2,${people}`, ['memberOf']))?.memberOf)).toEqual([]);
    const alice = await t.request('GET', `/Users/${aliceId}`);
    expect(alice.body.groups ?? []).toEqual([]);

    const delAlice = await t.request('DELETE', `/Users/${aliceId}`);
    expect(delAlice.status, delAlice.text).toBe(204);
    expect(await raw(`uid=alice2,${people}`, ['uid'])).toBeUndefined();
    expect((await t.request('DELETE', `/Users/${aliceId}`)).status).toBe(404);
  });
});
