/**
 * The change feed on 389-DS (issue 19): a real 389 Directory Server with the Retro Changelog
 * plug-in (src/localdev/dirsrv.ts), a real redis-server and a whole bridge with the 389 preset,
 * delivering to a real webhook receiver. Changes made with ldapadd / ldapmodify / ldapmodrdn /
 * ldapdelete each reach the receiver as the event a SCIM write would produce; the bridge's own
 * writes are delivered once; a restarted bridge continues from the stored changeNumber; a position
 * the changelog no longer continues from (trimmed, or a changelog that ends before it, as after a
 * restore) makes the feed reconcile. Prints the latency from a direct change to its delivery
 * (p50/p99 over 50 changes) and the changes/s over a burst of 1,000 (figures, not assertions).
 *
 * Needs `apt-get install 389-ds-base ldap-utils redis-server`. Run alone:
 * npx vitest run test/integration/389ds/feed.test.ts --maxWorkers=1
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import path, { delimiter } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { changeNumberOf, feedKeys, readPosition } from '../../../src/feed/index.ts';
import { missingDirsrvBinaries, type RunningDirsrv, startDirsrv } from '../../../src/localdev/dirsrv.ts';
import { missingRedisBinaries, type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { skipWithout } from '../../harness/prerequisites.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';

const execFileAsync = promisify(execFile);
const SUITE = 'change feed from the 389-DS retro changelog';
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SECRET = 'feed-389-secret-0123456789';
const BOUND_MS = 15_000;
const LATENCY_CHANGES = 50;
const BURST_CHANGES = 1_000;
/** The burst's entries: 10 changes each (a backlog of many changes to one entry is delivered
 * one at a time, in order, with the delivery worker's back-off in between). */
const BURST_USERS = 100;
const KEY_PREFIX = 'feed389:';

let ds: RunningDirsrv;
let redis: RunningRedis;
let receiver: Receiver;
let root: Client;
let t: TestBridge | undefined;

function bridgeEnv(): Record<string, string> {
  return {
    SCIM_BRIDGE_LDAP_URL: ds.url,
    SCIM_BRIDGE_LDAP_BIND_DN: ds.serviceDn,
    SCIM_BRIDGE_LDAP_BIND_PASSWORD: ds.servicePassword,
    SCIM_BRIDGE_MAPPINGS_DIR: 'mappings/389ds',
    SCIM_BRIDGE_REDIS_URL: redis.url,
    SCIM_BRIDGE_REDIS_KEY_PREFIX: KEY_PREFIX,
    SCIM_BRIDGE_EVENTS_ENABLED: 'true',
    SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
      { name: 'hook', url: receiver.url, secret: SECRET, concurrency: 16, ratePerSecond: 100_000 },
    ]),
    SCIM_BRIDGE_FEED_ENABLED: 'true',
    SCIM_BRIDGE_FEED_POLL_INTERVAL_MS: '50',
  };
}

async function startBridgeOn(logLines?: string[]): Promise<TestBridge> {
  const bridge = await startTestBridge({
    seed: 'empty',
    env: bridgeEnv(),
    ...(logLines ? { logLines } : {}),
  });
  // The feed follows from the changelog's last number on its first poll: wait until it has one.
  await receiver.waitFor(
    () => bridge.bridge.feed?.status().changeNumber !== undefined,
    BOUND_MS,
    'the feed to start',
  );
  return bridge;
}

/** One of the ldap-utils tools, bound as the Directory Manager, with LDIF on stdin. */
async function ldapTool(tool: string, ldif: string, args: string[] = []): Promise<void> {
  const child = execFileAsync(tool, ['-x', '-H', ds.url, '-D', ds.rootDn, '-w', ds.rootPassword, ...args]);
  child.child.stdin?.end(ldif);
  await child;
}

async function idOf(dn: string): Promise<string> {
  const { searchEntries } = await root.search(dn, { scope: 'base', attributes: ['nsUniqueId'] });
  return String(searchEntries[0]?.nsUniqueId).toLowerCase();
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

const people = () => ds.peopleDn;
const replace = (type: string, value: string) =>
  new Change({ operation: 'replace', modification: new Attribute({ type, values: [value] }) });

async function addUser(uid: string): Promise<string> {
  const dn = `uid=${uid},${people()}`;
  await root.add(dn, {
    objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
    uid,
    cn: uid,
    sn: uid,
  });
  return dn;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

/** The ldap-utils tools the tests run (on PATH). */
function missingLdapTools(): string[] {
  const dirs = (process.env.PATH ?? '').split(delimiter);
  return ['ldapadd', 'ldapmodify', 'ldapmodrdn', 'ldapdelete']
    .filter((tool) => !dirs.some((dir) => existsSync(path.join(dir, tool))))
    .map((tool) => `${tool} (apt-get install ldap-utils)`);
}

describe.skipIf(
  skipWithout(SUITE, [...missingDirsrvBinaries(), ...missingRedisBinaries(), ...missingLdapTools()]),
)(SUITE, () => {
  beforeAll(async () => {
    [ds, redis, receiver] = await Promise.all([
      startDirsrv({ retroChangelog: true }),
      startRedis(),
      startReceiver(SECRET),
    ]);
    root = new Client({ url: ds.url, timeout: 10_000 });
    await root.bind(ds.rootDn, ds.rootPassword);
    t = await startBridgeOn();
  }, 60_000);

  afterAll(async () => {
    await root?.unbind().catch(() => undefined);
    await t?.stop();
    await receiver?.close();
    await redis?.stop();
    await ds?.stop();
  }, 60_000);

  it('auto chose the retro changelog: the feed is active, without an error', () => {
    // lastError is absent or cleared (undefined) depending on whether an early poll failed; either is fine.
    const status = t?.bridge.feed?.status();
    expect(status?.role).toBe('active');
    expect(status?.lastError).toBeUndefined();
  });

  it('ldapadd, ldapmodify, ldapmodrdn and ldapdelete each yield their event, in order, origin "directory"', async () => {
    const dn = `uid=feed-frank,${people()}`;
    await ldapTool(
      'ldapadd',
      `dn: ${dn}\nobjectClass: inetOrgPerson\nuid: feed-frank\ncn: Frank Feed\nsn: Feed\nmail: frank@example.com\n`,
    );
    const id = await idOf(dn);
    await ldapTool(
      'ldapmodify',
      `dn: ${dn}\nchangetype: modify\nreplace: displayName\ndisplayName: Frank F.\n`,
    );
    await ldapTool('ldapmodrdn', '', ['-r', dn, 'uid=feed-franklin']);
    await ldapTool('ldapdelete', '', [`uid=feed-franklin,${people()}`]);

    const events = await waitForEvents(id, 4);
    expect(events.map((e) => e.type)).toEqual([
      'user.created',
      'user.updated',
      'user.updated',
      'user.deleted',
    ]);
    expect(events.every((e) => e.origin === 'directory')).toBe(true);
    expect(events[0].changedAttributes).toEqual(expect.arrayContaining(['userName', 'emails']));
    expect(events[1].changedAttributes).toEqual(['displayName']);
    expect(events[2].changedAttributes).toEqual(['userName']);
    expect(events[0].actor).toBe('cn=directory manager');
  });

  it('a membership change yields member_added and member_removed naming the member', async () => {
    const erin = await addUser('feed-erin');
    const group = `cn=feed-engineering,ou=Groups,${ds.suffix}`;
    await ldapTool('ldapadd', `dn: ${group}\nobjectClass: groupOfNames\ncn: feed-engineering\n`);
    const [groupId, erinId] = [await idOf(group), await idOf(erin)];
    await ldapTool('ldapmodify', `dn: ${group}\nchangetype: modify\nadd: member\nmember: ${erin}\n`);
    await ldapTool('ldapmodify', `dn: ${group}\nchangetype: modify\ndelete: member\nmember: ${erin}\n`);
    const events = await waitForEvents(groupId, 3);
    expect(events.map((e) => [e.type, e.memberIds])).toEqual([
      ['group.created', undefined],
      ['group.member_added', [erinId]],
      ['group.member_removed', [erinId]],
    ]);
    // The MemberOf plug-in's own bookkeeping on erin (memberOf) is no event of hers.
    expect(eventsFor(erinId).map((e) => e.type)).toEqual(['user.created']);
  });

  it("the bridge's own writes are delivered once (by the journal), not again by the feed", async () => {
    const created = await t?.request('POST', '/Users', { schemas: [USER], userName: 'feed-own' });
    expect(created?.status, created?.text).toBe(201);
    const id = created?.body.id as string;
    const patched = await t?.request('PATCH', `/Users/${id}`, {
      schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
      Operations: [{ op: 'replace', path: 'title', value: 'Own' }],
    });
    expect(patched?.status).toBeLessThan(300);
    // A direct change made after them: once it is delivered, the feed has read past both writes.
    const marker = await addUser('feed-marker');
    await waitForEvents(await idOf(marker), 1);
    await waitForEvents(id, 2);
    expect(eventsFor(id).map((e) => [e.type, e.origin])).toEqual([
      ['user.created', 'scim'],
      ['user.updated', 'scim'],
    ]);
    expect(t?.bridge.feed?.status().ownWrites).toBeGreaterThanOrEqual(2);
  });

  // Known gap (README §Change feed): a changelog delete record names no author, so the feed cannot
  // tell the bridge's own delete from anyone else's and publishes it a second time.
  it("the bridge's own DELETE is delivered once", async () => {
    const created = await t?.request('POST', '/Users', { schemas: [USER], userName: 'feed-own-delete' });
    const id = created?.body.id as string;
    expect((await t?.request('DELETE', `/Users/${id}`))?.status).toBe(204);
    const marker = await addUser('feed-marker-delete');
    await waitForEvents(await idOf(marker), 1);
    await waitForEvents(id, 2);
    expect(eventsFor(id).map((e) => [e.type, e.origin])).toEqual([
      ['user.created', 'scim'],
      ['user.deleted', 'scim'],
    ]);
  });

  it('a restarted bridge continues from the stored changeNumber: changes made while it was down arrive', async () => {
    await t?.stop();
    t = undefined;
    const client = new Redis(redis.url);
    const stored = await readPosition(client, KEY_PREFIX).finally(() => client.quit());
    const away = [await addUser('feed-away-1'), await addUser('feed-away-2')];
    await root.modify(away[0] as string, [replace('title', 'changed while away')]);
    t = await startBridgeOn();
    const ids = await Promise.all(away.map(idOf));
    const [first, second] = [
      await waitForEvents(ids[0] as string, 2),
      await waitForEvents(ids[1] as string, 1),
    ];
    expect(first.map((e) => e.type)).toEqual(['user.created', 'user.updated']);
    expect(second.map((e) => e.type)).toEqual(['user.created']);
    expect(changeNumberOf(stored?.reqStart ?? '')).toBeGreaterThan(0);
    expect(t.bridge.feed?.status().reconciliations).toBe(0);
  });

  it(`prints the latency from a direct change to its delivery over ${LATENCY_CHANGES} changes`, async () => {
    const dn = await addUser('feed-latency');
    const id = await idOf(dn);
    await waitForEvents(id, 1);
    const latencies: number[] = [];
    for (let i = 0; i < LATENCY_CHANGES; i++) {
      const before = eventsFor(id).length;
      const started = performance.now();
      await root.modify(dn, [replace('title', `latency ${i}`)]);
      await waitForEvents(id, before + 1);
      latencies.push(performance.now() - started);
    }
    latencies.sort((a, b) => a - b);
    console.info(
      `389-DS feed latency, direct ldapmodify -> webhook delivery (${LATENCY_CHANGES} changes, poll 50 ms): p50 ${percentile(latencies, 50).toFixed(0)} ms, p99 ${percentile(latencies, 99).toFixed(0)} ms, max ${latencies.at(-1)?.toFixed(0)} ms`,
    );
    expect(latencies).toHaveLength(LATENCY_CHANGES);
  }, 120_000);

  let burstDns: string[] = [];
  let burstIds: string[] = [];
  /** Each change replaces the next of these, so the delivered sequence shows the order. */
  const CYCLE: [ldap: string, scim: string][] = [
    ['title', 'title'],
    ['displayName', 'displayName'],
    ['telephoneNumber', 'phoneNumbers'],
    ['employeeNumber', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber'],
  ];
  /** Per burst entry, the SCIM attribute each change made to it names, in the order made. */
  const made = new Map<string, string[]>();
  const updatesOf = (id: string) => eventsFor(id).filter((e) => e.type === 'user.updated');

  /** BURST_CHANGES changes, BURST_USERS writers in parallel, each changing its own entry in turn. */
  async function burst(label: string): Promise<number> {
    const started = performance.now();
    await Promise.all(
      burstDns.map(async (dn, writer) => {
        const id = burstIds[writer] as string;
        for (let i = writer; i < BURST_CHANGES; i += BURST_USERS) {
          const sequence = made.get(id) ?? [];
          const [ldap, scim] = CYCLE[sequence.length % CYCLE.length] as [string, string];
          await root.modify(dn, [replace(ldap, `${label} ${i}`)]);
          made.set(id, [...sequence, scim]);
        }
      }),
    );
    return performance.now() - started;
  }

  /** Per entry, every change delivered, in the order it was made. */
  function expectDeliveredInOrder(): void {
    for (const id of burstIds)
      expect(updatesOf(id).map((e) => e.changedAttributes.join(','))).toEqual(made.get(id));
  }

  async function waitForUpdates(total: number, what: string): Promise<void> {
    await receiver.waitFor(
      () => burstIds.reduce((sum, id) => sum + updatesOf(id).length, 0) >= total,
      120_000,
      what,
    );
  }

  it(`prints the changes/s over a burst of ${BURST_CHANGES.toLocaleString('en')} direct changes, live`, async () => {
    burstDns = await Promise.all(Array.from({ length: BURST_USERS }, (_, i) => addUser(`feed-burst-${i}`)));
    burstIds = await Promise.all(burstDns.map(idOf));
    await receiver.waitFor(
      () => burstIds.every((id) => eventsFor(id).length >= 1),
      BOUND_MS,
      'the burst users',
    );
    const feed = t?.bridge.feed;
    const recordsBefore = feed?.status().records ?? 0;
    const started = performance.now();
    const written = await burst('live');
    const read = () => (feed?.status().records ?? 0) - recordsBefore;
    await receiver.waitFor(() => read() >= BURST_CHANGES, 60_000, 'the burst read');
    const queued = performance.now() - started;
    await waitForUpdates(BURST_CHANGES, 'every burst change delivered');
    const delivered = performance.now() - started;
    console.info(
      `389-DS feed, live burst: ${BURST_CHANGES} ldapmodify written in ${written.toFixed(0)} ms (${((BURST_CHANGES / written) * 1000).toFixed(0)}/s: the directory's write rate); the feed had queued them ${(queued - written).toFixed(0)} ms after the last write, all delivered ${(delivered - written).toFixed(0)} ms after it: ${((BURST_CHANGES / delivered) * 1000).toFixed(0)} changes/s end to end`,
    );
    expectDeliveredInOrder();
  }, 180_000);

  it(`prints the changes/s the feed sustains catching up on ${BURST_CHANGES.toLocaleString('en')} changes made while it was down`, async () => {
    await t?.stop();
    t = undefined;
    await burst('backlog');
    const started = performance.now();
    t = await startBridgeOn();
    const running = performance.now() - started;
    const feed = t.bridge.feed;
    await receiver.waitFor(() => (feed?.status().records ?? 0) >= BURST_CHANGES, 60_000, 'the backlog read');
    const queued = performance.now() - started;
    await waitForUpdates(2 * BURST_CHANGES, 'every backlog change delivered');
    const caughtUp = performance.now() - started;
    console.info(
      `389-DS feed, catching up on ${BURST_CHANGES} changes made while it was down (${BURST_USERS} entries): bridge up in ${running.toFixed(0)} ms; the feed read and queued them after ${queued.toFixed(0)} ms (${((BURST_CHANGES / queued) * 1000).toFixed(0)} changes/s, batch 500); all delivered after ${caughtUp.toFixed(0)} ms (${((BURST_CHANGES / caughtUp) * 1000).toFixed(0)} changes/s end to end)`,
    );
    expect(t.bridge.feed?.status().reconciliations).toBe(0);
    expectDeliveredInOrder();
  }, 180_000);

  it('a changelog that ends before the stored position (a restored directory) makes the feed reconcile', async () => {
    await t?.stop();
    t = undefined;
    const client = new Redis(redis.url);
    try {
      const stored = changeNumberOf((await readPosition(client, KEY_PREFIX))?.reqStart ?? '') ?? 0;
      // What a directory restored from an older backup shows: its changelog ends long before.
      await client.hset(
        feedKeys(KEY_PREFIX).position,
        'reqStart',
        `changelog:${stored + 100_000}`,
        'kind',
        'record',
      );
    } finally {
      await client.quit();
    }
    const fresh = await addUser('feed-after-restore');
    const before = receiver.accepted().length;
    const logLines: string[] = [];
    t = await startBridgeOn(logLines);
    await receiver.waitFor(
      () => (t?.bridge.feed?.status().reconciliations ?? 0) >= 1,
      BOUND_MS,
      'a reconciliation',
    );
    const id = await idOf(fresh);
    const events = await waitForEvents(id, 1);
    expect(events.map((e) => [e.type, e.actor])).toEqual([['user.created', 'reconcile']]);
    const warning = logLines.map((line) => JSON.parse(line)).find((l) => /restored/.test(l.msg));
    expect(warning?.msg).toMatch(
      /the changelog ends at \d+, before the position \d+ .*reconciling every service/,
    );
    // Exactly the difference: the receiver was told about every other entry already.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(
      receiver
        .accepted()
        .slice(before)
        .map((d) => d.event.resourceId),
    ).toEqual([id]);
  });
});

describe.skipIf(skipWithout(`${SUITE}: trimmed`, [...missingDirsrvBinaries(), ...missingRedisBinaries()]))(
  `${SUITE}: trimmed`,
  () => {
    let trimmed: RunningDirsrv;
    let bridge: TestBridge;
    let client: Client;
    let hook: Receiver;
    const logLines: string[] = [];

    beforeAll(async () => {
      [trimmed, hook] = await Promise.all([
        // Records older than 3 s go, checked every second (389's defaults: none kept forever, 300 s).
        startDirsrv({ retroChangelog: true, changelogMaxAge: '3s', changelogTrimIntervalS: 1 }),
        startReceiver(SECRET),
      ]);
      client = new Client({ url: trimmed.url, timeout: 10_000 });
      await client.bind(trimmed.rootDn, trimmed.rootPassword);
      bridge = await startTestBridge({
        seed: 'empty',
        logLines,
        env: {
          SCIM_BRIDGE_LDAP_URL: trimmed.url,
          SCIM_BRIDGE_LDAP_BIND_DN: trimmed.serviceDn,
          SCIM_BRIDGE_LDAP_BIND_PASSWORD: trimmed.servicePassword,
          SCIM_BRIDGE_MAPPINGS_DIR: 'mappings/389ds',
          SCIM_BRIDGE_EVENTS_ENABLED: 'true',
          SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
            { name: 'hook', url: hook.url, secret: SECRET, ratePerSecond: 1000 },
          ]),
          SCIM_BRIDGE_FEED_ENABLED: 'true',
          SCIM_BRIDGE_FEED_SOURCE: 'retro-changelog',
          // One poll at the start, then only the ones this test asks for: the feed is "away".
          SCIM_BRIDGE_FEED_POLL_INTERVAL_MS: '3600000',
        },
      });
      await hook.waitFor(
        () => bridge.bridge.feed?.status().changeNumber !== undefined,
        BOUND_MS,
        'the feed to start',
      );
    }, 60_000);

    afterAll(async () => {
      await client?.unbind().catch(() => undefined);
      await bridge?.stop();
      await hook?.close();
      await trimmed?.stop();
    }, 60_000);

    it('records trimmed before the feed read them: it says so and reconciles, and the receiver learns of every change', async () => {
      const position = bridge.bridge.feed?.status().changeNumber ?? 0;
      const dns: string[] = [];
      for (const uid of ['trim-a', 'trim-b', 'trim-c']) {
        const dn = `uid=${uid},${trimmed.peopleDn}`;
        await client.add(dn, { objectClass: ['inetOrgPerson'], uid, cn: uid, sn: uid });
        dns.push(dn);
      }
      const first = async () => {
        const { searchEntries } = await client.search('', {
          scope: 'base',
          attributes: ['firstChangeNumber'],
        });
        return Number(searchEntries[0]?.firstchangenumber ?? searchEntries[0]?.firstChangeNumber ?? 0);
      };
      const deadline = Date.now() + BOUND_MS;
      while ((await first()) <= position + 1) {
        if (Date.now() > deadline) throw new Error('389-DS did not trim its changelog in time');
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await bridge.bridge.feed?.pollOnce();
      expect(bridge.bridge.feed?.status().reconciliations).toBe(1);
      const warning = logLines.map((line) => JSON.parse(line)).find((l) => /trimmed/.test(l.msg));
      expect(warning?.msg).toMatch(/records after the position \d+ were trimmed; reconciling every service/);
      const ids = await Promise.all(
        dns.map(async (dn) => {
          const { searchEntries } = await client.search(dn, { scope: 'base', attributes: ['nsUniqueId'] });
          return String(searchEntries[0]?.nsUniqueId).toLowerCase();
        }),
      );
      await hook.waitFor(() => hook.accepted().length >= ids.length, BOUND_MS, 'the reconciliation events');
      expect(
        hook
          .accepted()
          .map((d) => [d.event.type, d.event.resourceId, d.event.actor])
          .sort(),
      ).toEqual(ids.map((id) => ['user.created', id, 'reconcile']).sort());
    });
  },
);
