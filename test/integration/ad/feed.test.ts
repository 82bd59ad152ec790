/**
 * The change feed for Active Directory (issue 19) against a real Samba AD DC: a whole bridge
 * (the AD preset, events and the feed on with `feed.source: auto`, a real redis-server) delivering
 * to a real HTTP receiver. Changes made directly in the directory with ldap-utils (ldapadd,
 * ldapmodify, ldapmodrdn, ldapdelete) each reach the receiver as the event a SCIM write would
 * produce, with origin "directory"; deletes are seen through the Show Deleted control; the
 * bridge's own writes are delivered once, by the journal; a feed stopped and started again
 * delivers what changed meanwhile from its stored position. Prints the latency from a direct
 * change to its delivery (p50/p99; a figure, not asserted).
 *
 * Needs Samba (root, the fixed ports 389/636/88) and ldap-utils. Run alone:
 * npx vitest run test/integration/ad/feed.test.ts --maxWorkers=1
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Attribute, Change, Client } from 'ldapts';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { decodeAdPosition } from '../../../src/feed/ad/changes.ts';
import { type FeedRuntime, feedKeys } from '../../../src/feed/index.ts';
import { type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';
import { missingSambaPrerequisites, type RunningSambaAd, startSambaAd } from '../../../src/localdev/samba.ts';
import { guidToString } from '../../../src/mapping/transforms.ts';
import { startFeedInWorker } from '../../../src/start-feed.ts';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { skipWithout } from '../../harness/prerequisites.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';

const execFileAsync = promisify(execFile);
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SUITE = 'Change feed from Samba AD DC';
const SECRET = 'feed-ad-webhook-secret-0123456789';
const BOUND_MS = 15_000;
const LATENCY_CHANGES = 50;
const OWN_ROUNDS = 20;
const BURST_USERS = 20;
const BURST_CHANGES = 400;
const USERS = 'CN=Users,DC=example,DC=test';
const GROUPS = 'OU=Groups,DC=example,DC=test';

const missing = [
  ...(await missingSambaPrerequisites()),
  ...(await execFileAsync('ldapmodify', ['-VV']).then(
    () => [],
    (error: { code?: string }) =>
      error.code === 'ENOENT' ? ['ldap-utils (apt-get install ldap-utils)'] : [],
  )),
];

describe.skipIf(skipWithout(SUITE, missing))(SUITE, () => {
  let samba: RunningSambaAd;
  let redis: RunningRedis;
  let receiver: Receiver;
  let t: TestBridge;
  let ldap: Client;
  let env: Record<string, string>;
  let restarted: FeedRuntime | undefined;

  /** ldap-utils against Samba over LDAPS as the domain's Administrator. */
  async function ldapUtil(tool: string, args: string[], input?: string): Promise<void> {
    const run = execFileAsync(
      tool,
      ['-H', samba.ldapsUrl, '-x', '-D', samba.adminDn, '-w', samba.adminPassword, ...args],
      {
        // Samba's certificate names DC1.example.test, not 127.0.0.1: the tools are told to go on.
        env: { ...process.env, LDAPTLS_CACERT: samba.caFile, LDAPTLS_REQCERT: 'allow' },
      },
    );
    if (input !== undefined) run.child.stdin?.end(input);
    await run;
  }

  async function guidOf(dn: string): Promise<string> {
    const { searchEntries } = await ldap.search(dn, {
      scope: 'base',
      attributes: ['objectGUID'],
      explicitBufferAttributes: ['objectGUID'],
    });
    return guidToString(searchEntries[0]?.objectGUID as Buffer);
  }

  function eventsFor(resourceId: string) {
    return receiver
      .accepted()
      .filter((d) => d.event?.resourceId === resourceId)
      .map((d) => d.event);
  }

  async function waitForEvents(resourceId: string, count: number) {
    await receiver.waitFor(
      () => eventsFor(resourceId).length >= count,
      BOUND_MS,
      `${count} event(s) of ${resourceId}`,
    );
    return eventsFor(resourceId);
  }

  const addUser = (name: string) =>
    ldapUtil(
      'ldapadd',
      [],
      `dn: CN=${name},${USERS}\nobjectClass: user\nsAMAccountName: ${name}\ngivenName: ${name}\n`,
    );

  beforeAll(async () => {
    samba = await startSambaAd();
    redis = await startRedis();
    receiver = await startReceiver(SECRET);
    ldap = new Client({
      url: samba.ldapsUrl,
      tlsOptions: { ca: readFileSync(samba.caFile), servername: samba.serverName },
    });
    await ldap.bind(samba.adminDn, samba.adminPassword);
    await ldap.add(GROUPS, [
      new Attribute({ type: 'objectClass', values: ['top', 'organizationalUnit'] }),
      new Attribute({ type: 'ou', values: ['Groups'] }),
    ]);
    env = {
      SCIM_BRIDGE_LDAP_URL: samba.ldapsUrl,
      SCIM_BRIDGE_LDAP_BIND_DN: samba.adminDn,
      SCIM_BRIDGE_LDAP_BIND_PASSWORD: samba.adminPassword,
      SCIM_BRIDGE_LDAP_TLS_CA_FILE: samba.caFile,
      SCIM_BRIDGE_LDAP_TLS_SERVER_NAME: samba.serverName,
      SCIM_BRIDGE_MAPPINGS_DIR: 'mappings/activedirectory',
      SCIM_BRIDGE_REDIS_URL: redis.url,
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
        { name: 'hook', url: receiver.url, secret: SECRET, concurrency: 4, ratePerSecond: 1000 },
      ]),
      SCIM_BRIDGE_FEED_ENABLED: 'true',
      SCIM_BRIDGE_FEED_POLL_INTERVAL_MS: '50',
    };
    t = await startTestBridge({ env });
    // The feed chooses its source from the rootDSE, then starts from the DC's USN of "now".
    await receiver.waitFor(
      () => t.bridge.feed?.status().position?.startsWith('usn:') === true,
      BOUND_MS,
      'the AD feed to start',
    );
  }, 120_000);

  afterAll(async () => {
    await restarted?.stop();
    await ldap?.unbind().catch(() => undefined);
    await t?.stop();
    await receiver?.close();
    await redis?.stop();
    await samba?.stop();
  }, 60_000);

  it('ldapadd, ldapmodify, ldapmodrdn and ldapdelete each yield their event, with origin "directory"', async () => {
    await addUser('feedfrank');
    const id = await guidOf(`CN=feedfrank,${USERS}`);
    await waitForEvents(id, 1);
    await ldapUtil(
      'ldapmodify',
      [],
      `dn: CN=feedfrank,${USERS}\nchangetype: modify\nreplace: displayName\ndisplayName: Frank F.\n`,
    );
    await waitForEvents(id, 2);
    await ldapUtil('ldapmodrdn', ['-r', `CN=feedfrank,${USERS}`, 'CN=feedfranklin']);
    await waitForEvents(id, 3);
    await ldapUtil('ldapdelete', [`CN=feedfranklin,${USERS}`]);
    const events = await waitForEvents(id, 4);

    expect(events.map((e) => e.type)).toEqual([
      'user.created',
      'user.updated',
      'user.updated',
      'user.deleted',
    ]);
    expect(events.every((e) => e.origin === 'directory' && e.resourceType === 'User')).toBe(true);
    expect(events[0].changedAttributes).toEqual(expect.arrayContaining(['userName', 'name.givenName']));
    expect(events[1].changedAttributes).toEqual(['displayName']);
    // The objectGUID (the id) survives the rename; the RDN is the userName's place in the DN.
    expect(events[2].changedAttributes).toEqual(['userName']);
    expect(events[3].changedAttributes).toEqual([]);
    expect(new Set(events.map((e) => e.eventId)).size).toBe(4);
  });

  it('a membership change yields member_added and member_removed naming the member by its objectGUID', async () => {
    await addUser('feederin');
    const erinDn = `CN=feederin,${USERS}`;
    const erinId = await guidOf(erinDn);
    const groupDn = `CN=feedgroup,${GROUPS}`;
    await ldapUtil('ldapadd', [], `dn: ${groupDn}\nobjectClass: group\nsAMAccountName: feedgroup\n`);
    const groupId = await guidOf(groupDn);
    await waitForEvents(groupId, 1);
    await ldapUtil('ldapmodify', [], `dn: ${groupDn}\nchangetype: modify\nadd: member\nmember: ${erinDn}\n`);
    await waitForEvents(groupId, 2);
    await ldapUtil(
      'ldapmodify',
      [],
      `dn: ${groupDn}\nchangetype: modify\ndelete: member\nmember: ${erinDn}\n`,
    );
    const events = await waitForEvents(groupId, 3);
    expect(events.map((e) => [e.type, e.memberIds ?? []])).toEqual([
      ['group.created', []],
      ['group.member_added', [erinId]],
      ['group.member_removed', [erinId]],
    ]);
  });

  it('deleting a member directly (AD drops it from its groups silently) yields member_removed for its group', async () => {
    await addUser('feedhank');
    const hankDn = `CN=feedhank,${USERS}`;
    const hankId = await guidOf(hankDn);
    const groupDn = `CN=feedhanks,${GROUPS}`;
    await ldapUtil(
      'ldapadd',
      [],
      `dn: ${groupDn}\nobjectClass: group\nsAMAccountName: feedhanks\nmember: ${hankDn}\n`,
    );
    const groupId = await guidOf(groupDn);
    await waitForEvents(groupId, 1);
    await ldapUtil('ldapdelete', [hankDn]);
    const events = await waitForEvents(groupId, 2);
    expect((await waitForEvents(hankId, 2)).map((e) => e.type)).toEqual(['user.created', 'user.deleted']);
    expect(events.map((e) => [e.type, e.memberIds ?? []])).toEqual([
      ['group.created', []],
      ['group.member_removed', [hankId]],
    ]);
  });

  it("moving an entry out of every resource type's base (another OU) is a delete for SCIM", async () => {
    const elsewhere = 'OU=Elsewhere,DC=example,DC=test';
    await ldapUtil('ldapadd', [], `dn: ${elsewhere}\nobjectClass: organizationalUnit\nou: Elsewhere\n`);
    await addUser('feedivan');
    const id = await guidOf(`CN=feedivan,${USERS}`);
    await waitForEvents(id, 1);
    await ldapUtil('ldapmodrdn', ['-r', '-s', elsewhere, `CN=feedivan,${USERS}`, 'CN=feedivan']);
    const events = await waitForEvents(id, 2);
    expect(events.map((e) => [e.type, e.origin])).toEqual([
      ['user.created', 'directory'],
      ['user.deleted', 'directory'],
    ]);
  });

  it('disabling an account directly (userAccountControl) is a deactivation', async () => {
    await addUser('feedgina');
    const dn = `CN=feedgina,${USERS}`;
    const id = await guidOf(dn);
    await waitForEvents(id, 1);
    const accountControl = (flags: number) =>
      ldap.modify(dn, [
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'userAccountControl', values: [String(flags)] }),
        }),
      ]);
    // NORMAL_ACCOUNT | PASSWD_NOTREQD, then the same with ACCOUNTDISABLE.
    await accountControl(0x200 | 0x20);
    await waitForEvents(id, 2);
    await accountControl(0x200 | 0x20 | 0x2);
    const events = await waitForEvents(id, 3);
    expect(events.slice(1).map((e) => [e.type, e.changedAttributes])).toEqual([
      ['user.updated', ['active']],
      ['user.deactivated', ['active']],
    ]);
  });

  it("the bridge's own writes are delivered once (by the journal), not again by the feed", async () => {
    const created = await t.request('POST', '/Users', { schemas: [USER], userName: 'feedown' });
    expect(created.status, created.text).toBe(201);
    const id = created.body.id as string;
    const patched = await t.request('PATCH', `/Users/${id}`, {
      schemas: [PATCH],
      Operations: [{ op: 'replace', path: 'title', value: 'Owner' }],
    });
    expect(patched.status, patched.text).toBe(200);
    await waitForEvents(id, 2);
    // A direct change made after them: once the feed delivered it, it has read past the writes.
    await addUser('feedmarker');
    await waitForEvents(await guidOf(`CN=feedmarker,${USERS}`), 1);
    expect(eventsFor(id).map((e) => [e.type, e.origin])).toEqual([
      ['user.created', 'scim'],
      ['user.updated', 'scim'],
    ]);
    // Both writes may fall into one poll: the feed then reads the entry once.
    expect(t.bridge.feed?.status().ownWrites).toBeGreaterThanOrEqual(1);

    // A direct change of the same entry afterwards is the directory's again.
    await ldapUtil(
      'ldapmodify',
      [],
      `dn: CN=feedown,${USERS}\nchangetype: modify\nreplace: title\ntitle: Direct\n`,
    );
    const events = await waitForEvents(id, 3);
    expect(events[2]).toMatchObject({
      type: 'user.updated',
      origin: 'directory',
      changedAttributes: ['title'],
    });
  });

  it(`${OWN_ROUNDS} POST+PATCH pairs in a row: none is delivered again by the feed (a PATCH committed while the feed handles the create keeps its mark)`, async () => {
    const ids: string[] = [];
    for (let round = 0; round < OWN_ROUNDS; round++) {
      const created = await t.request('POST', '/Users', { schemas: [USER], userName: `feedpair${round}` });
      expect(created.status, created.text).toBe(201);
      const id = created.body.id as string;
      ids.push(id);
      const patched = await t.request('PATCH', `/Users/${id}`, {
        schemas: [PATCH],
        Operations: [{ op: 'replace', path: 'title', value: `Pair ${round}` }],
      });
      expect(patched.status, patched.text).toBe(200);
    }
    // A direct change made after them: once the feed delivered it, it has read past the pairs.
    await addUser('feedpairmarker');
    await waitForEvents(await guidOf(`CN=feedpairmarker,${USERS}`), 1);
    await receiver.waitFor(() => ids.every((id) => eventsFor(id).length >= 2), BOUND_MS, 'the pairs');
    const again = ids.filter((id) => eventsFor(id).some((e) => e.origin === 'directory'));
    expect(again, 'pairs the feed delivered again').toEqual([]);
  });

  it(`latency from a direct change to its delivery, over ${LATENCY_CHANGES} changes (printed)`, async () => {
    await addUser('feedlatency');
    const dn = `CN=feedlatency,${USERS}`;
    const id = await guidOf(dn);
    await waitForEvents(id, 1);
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_CHANGES; i++) {
      const started = performance.now();
      await ldap.modify(dn, [
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'title', values: [`t${i}`] }),
        }),
      ]);
      await waitForEvents(id, i + 2);
      latencies.push(performance.now() - started);
    }
    const sorted = [...latencies].sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
    console.info(
      `AD feed latency (Samba AD, poll 50 ms, ${latencies.length} changes): p50 ${at(0.5).toFixed(0)} ms, p99 ${at(0.99).toFixed(0)} ms, max ${at(1).toFixed(0)} ms`,
    );
    expect(
      eventsFor(id)
        .slice(1)
        .every((e) => e.type === 'user.updated'),
    ).toBe(true);
  }, 120_000);

  it(`a burst of ${BURST_CHANGES} direct changes over ${BURST_USERS} users: every user's change arrives (changes/s printed)`, async () => {
    const dns: string[] = [];
    const ids: string[] = [];
    for (let u = 0; u < BURST_USERS; u++) {
      const dn = `CN=feedburst${u},${USERS}`;
      await ldap.add(dn, [
        new Attribute({ type: 'objectClass', values: ['user'] }),
        new Attribute({ type: 'sAMAccountName', values: [`feedburst${u}`] }),
      ]);
      dns.push(dn);
      ids.push(await guidOf(dn));
    }
    await receiver.waitFor(() => ids.every((id) => eventsFor(id).length >= 1), BOUND_MS, 'the burst users');
    const started = performance.now();
    for (let i = 0; i < BURST_CHANGES; i += BURST_USERS)
      await Promise.all(
        dns.map((dn, u) =>
          ldap.modify(dn, [
            new Change({
              operation: 'replace',
              modification: new Attribute({ type: 'title', values: [`burst ${i + u}`] }),
            }),
          ]),
        ),
      );
    const written = performance.now() - started;
    const { searchEntries } = await ldap.search('', { scope: 'base', attributes: ['highestCommittedUSN'] });
    const lastUsn = Number(searchEntries[0]?.highestCommittedUSN);
    await receiver.waitFor(
      () => (decodeAdPosition(t.bridge.feed?.status().position)?.usn ?? 0) >= lastUsn,
      BOUND_MS * 2,
      'the feed to read past the burst',
    );
    const caughtUp = performance.now() - started - written;
    // AD gives the current state: changes of one entry within one poll arrive as one event.
    await receiver.waitFor(
      () => ids.every((id) => eventsFor(id).some((e) => e.type === 'user.updated')),
      BOUND_MS * 2,
      'an update of every burst user',
    );
    const events = ids.reduce((sum, id) => sum + eventsFor(id).length - 1, 0);
    console.info(
      `AD feed burst: ${BURST_CHANGES} changes by ${BURST_USERS} concurrent writers in ${written.toFixed(0)} ms (${((BURST_CHANGES / written) * 1000).toFixed(0)} changes/s, Samba's rate); the feed read past the last ${caughtUp.toFixed(0)} ms after it; ${events} events (changes of one entry within a poll fold into one)`,
    );
    expect(ids.every((id) => eventsFor(id).every((e) => e.origin === 'directory'))).toBe(true);
  }, 120_000);

  it('stopped, then started again: what changed meanwhile is delivered from the stored position', async () => {
    await addUser('feedrestart');
    const dn = `CN=feedrestart,${USERS}`;
    const id = await guidOf(dn);
    await waitForEvents(id, 1);
    await t.bridge.feed?.stop();
    await ldapUtil('ldapmodify', [], `dn: ${dn}\nchangetype: modify\nreplace: title\ntitle: While stopped\n`);
    await addUser('feedlate');
    const lateId = await guidOf(`CN=feedlate,${USERS}`);
    const markerId = await guidOf(`CN=feedmarker,${USERS}`);
    await ldapUtil('ldapdelete', [`CN=feedmarker,${USERS}`]);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(eventsFor(id)).toHaveLength(1);

    restarted = startFeedInWorker(loadConfig({ env }), pino({ level: 'silent' }));
    const changed = await waitForEvents(id, 2);
    const late = await waitForEvents(lateId, 1);
    expect(changed[1]).toMatchObject({
      type: 'user.updated',
      changedAttributes: ['title'],
      origin: 'directory',
    });
    expect(late.map((e) => e.type)).toEqual(['user.created']);
    expect((await waitForEvents(markerId, 2)).map((e) => e.type)).toEqual(['user.created', 'user.deleted']);
    expect(restarted?.status().reconciliations).toBe(0);
  });

  it.each([
    ['another DC (or this one restored: a new invocationId)', 'other', 'another domain controller'],
    ['a USN this DC has not reached (restored from a backup)', 'ahead', 'restored from a backup'],
  ])('a position of %s means a full reconciliation, logged, then following on', async (_, kind, logged) => {
    await restarted?.stop();
    const config = loadConfig({ env });
    const client = new Redis(redis.url);
    try {
      const key = feedKeys(config.redis.keyPrefix).position;
      const current = decodeAdPosition((await client.hget(key, 'reqStart')) ?? undefined);
      expect(current).toBeDefined();
      const stale =
        kind === 'other'
          ? `usn:00000000-0000-4000-8000-000000000000:${current?.usn}`
          : `usn:${current?.invocationId}:${(current?.usn ?? 0) + 1_000_000}`;
      await client.hset(key, 'reqStart', stale, 'kind', 'record');
    } finally {
      client.disconnect();
    }
    const lines: string[] = [];
    restarted = startFeedInWorker(
      config,
      pino({ level: 'info' }, { write: (line: string) => void lines.push(line) }),
    );
    await receiver.waitFor(
      () => restarted?.status().reconciliations === 1 && restarted.status().position !== undefined,
      BOUND_MS,
      'the reconciliation',
    );
    expect(lines.filter((line) => line.includes(logged))).toHaveLength(1);
    expect(restarted?.status().position).not.toContain('00000000-0000-4000');
    // The reconciliation published exactly the differences: the Administrator, there before the
    // feed started, was never told (created once, by the first); nothing of it changed since.
    const administrator = await waitForEvents(await guidOf(samba.adminDn), 1);
    expect(administrator.map((e) => [e.type, e.actor])).toEqual([['user.created', 'reconcile']]);
    // And it follows the DC from there.
    const name = `feedafter${kind}`;
    await addUser(name);
    const events = await waitForEvents(await guidOf(`CN=${name},${USERS}`), 1);
    expect(events.map((e) => [e.type, e.origin])).toEqual([['user.created', 'directory']]);
  });

  it("after a gap, a group's next change repeats none of the member events its reconciliation covered", async () => {
    for (const name of ['feedgapa', 'feedgapb', 'feedgapc']) await addUser(name);
    const [a, b, c] = ['feedgapa', 'feedgapb', 'feedgapc'].map((name) => `CN=${name},${USERS}`);
    const groupDn = `CN=feedgapgroup,${GROUPS}`;
    await ldapUtil(
      'ldapadd',
      [],
      `dn: ${groupDn}\nobjectClass: group\nsAMAccountName: feedgapgroup\nmember: ${a}\n`,
    );
    const groupId = await guidOf(groupDn);
    await waitForEvents(groupId, 1);
    const addMember = (dn: string) =>
      ldapUtil('ldapmodify', [], `dn: ${groupDn}\nchangetype: modify\nadd: member\nmember: ${dn}\n`);
    // The feed is away while b joins, and comes back to a position of another DC: a gap.
    await restarted?.stop();
    await addMember(b as string);
    const config = loadConfig({ env });
    const client = new Redis(redis.url);
    try {
      const key = feedKeys(config.redis.keyPrefix).position;
      const current = decodeAdPosition((await client.hget(key, 'reqStart')) ?? undefined);
      await client.hset(key, 'reqStart', `usn:00000000-0000-4000-8000-000000000000:${current?.usn}`);
    } finally {
      client.disconnect();
    }
    restarted = startFeedInWorker(config, pino({ level: 'silent' }));
    const reconciled = await waitForEvents(groupId, 2);
    expect(reconciled[1]).toMatchObject({ type: 'group.updated', actor: 'reconcile' });
    expect(reconciled[1].changedAttributes).toContain('members');
    // The next change of the group: c joins. Only c is new; b was the reconciliation's.
    await addMember(c as string);
    await waitForEvents(groupId, 3);
    await addUser('feedgapmarker');
    await waitForEvents(await guidOf(`CN=feedgapmarker,${USERS}`), 1);
    expect(
      eventsFor(groupId)
        .slice(2)
        .map((e) => [e.type, e.memberIds]),
    ).toEqual([['group.member_added', [await guidOf(c as string)]]]);
  });
});
