/**
 * The 389-DS feed's kill test (issue 19): the feed runs in a `scim-ldap-bridge worker` child
 * process against a real 389-DS with the Retro Changelog, a redis-server and a webhook receiver
 * started here. 1,000 changes are made directly in the directory while the worker is SIGKILLed
 * and started again. Afterwards every change was delivered at least once, and per entry in the
 * order it was made (the receiver de-duplicates on the event id, as receivers are told to).
 *
 * FEED_KILL_CHANGES (default 1000) sets the number of changes. Run alone:
 * npx vitest run test/integration/389ds/feed-kill.test.ts --maxWorkers=1
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readPosition } from '../../../src/feed/index.ts';
import { missingDirsrvBinaries, type RunningDirsrv, startDirsrv } from '../../../src/localdev/dirsrv.ts';
import { missingRedisBinaries, type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';
import { skipWithout } from '../../harness/prerequisites.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';

const SUITE = 'the 389-DS feed process killed during direct changes';
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const SECRET = 'feed-389-kill-secret-0123456789';
const CHANGES = Number(process.env.FEED_KILL_CHANGES ?? 1000);
const USERS = 50;
/** Each change replaces one of these, in turn, so the delivered sequence shows the order. */
const CYCLE: [ldap: string, scim: string][] = [
  ['title', 'title'],
  ['displayName', 'displayName'],
  ['telephoneNumber', 'phoneNumbers'],
  ['employeeNumber', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber'],
];

let ds: RunningDirsrv;
let redis: RunningRedis;
let receiver: Receiver;
let root: Client;
let child: ChildProcess | undefined;
const childOutput: string[] = [];

function startWorker(): ChildProcess {
  const proc = spawn(path.join(repoRoot, 'node_modules/.bin/node'), ['src/cli/main.ts', 'worker'], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: {
      PATH: process.env.PATH ?? '',
      SCIM_BRIDGE_LDAP_URL: ds.url,
      SCIM_BRIDGE_LDAP_BIND_DN: ds.serviceDn,
      SCIM_BRIDGE_LDAP_BIND_PASSWORD: ds.servicePassword,
      SCIM_BRIDGE_MAPPINGS_DIR: 'mappings/389ds',
      SCIM_BRIDGE_REDIS_URL: redis.url,
      SCIM_BRIDGE_LOG_LEVEL: 'warn',
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_BACKOFF_BASE_MS: '50',
      SCIM_BRIDGE_EVENTS_BACKOFF_MAX_MS: '500',
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
        { name: 'hook', url: receiver.url, secret: SECRET, concurrency: 16, ratePerSecond: 100_000 },
      ]),
      SCIM_BRIDGE_FEED_ENABLED: 'true',
      SCIM_BRIDGE_FEED_POLL_INTERVAL_MS: '50',
      // A killed holder's lease lapses quickly, so the restarted worker takes over soon.
      SCIM_BRIDGE_FEED_LEASE_TTL_MS: '1500',
    },
  });
  const keep = (chunk: Buffer) => {
    childOutput.push(chunk.toString());
    if (childOutput.length > 200) childOutput.shift();
  };
  proc.stdout?.on('data', keep);
  proc.stderr?.on('data', keep);
  return proc;
}

function kill(proc: ChildProcess | undefined): Promise<void> {
  if (!proc || proc.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    proc.once('exit', () => resolve());
    proc.kill('SIGKILL');
  });
}

const userDn = (index: number) => `uid=feed-kill-${index},${ds.peopleDn}`;

describe.skipIf(skipWithout(SUITE, [...missingDirsrvBinaries(), ...missingRedisBinaries()]))(SUITE, () => {
  beforeAll(async () => {
    [ds, redis, receiver] = await Promise.all([
      startDirsrv({ retroChangelog: true }),
      startRedis(),
      startReceiver(SECRET),
    ]);
    root = new Client({ url: ds.url, timeout: 10_000 });
    await root.bind(ds.rootDn, ds.rootPassword);
    for (let i = 0; i < USERS; i++)
      await root.add(userDn(i), {
        objectClass: ['inetOrgPerson'],
        uid: `feed-kill-${i}`,
        cn: `K ${i}`,
        sn: 'K',
      });
  }, 60_000);

  afterAll(async () => {
    await kill(child);
    await root?.unbind().catch(() => undefined);
    await Promise.allSettled([redis?.stop(), receiver?.close()]);
    await ds?.stop();
  }, 60_000);

  it(`delivers all ${CHANGES} changes at least once, in per-entry order`, async () => {
    const ids = new Map<string, number>();
    for (let i = 0; i < USERS; i++) {
      const { searchEntries } = await root.search(userDn(i), { scope: 'base', attributes: ['nsUniqueId'] });
      ids.set(String(searchEntries[0]?.nsUniqueId).toLowerCase(), i);
    }
    child = startWorker();
    // The first position is the changelog's last number: wait until the worker holds one.
    const positions = new Redis(redis.url);
    try {
      const deadline = Date.now() + 30_000;
      while (!(await readPosition(positions, 'scim-bridge:')) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      positions.disconnect();
    }
    const probe = `uid=feed-kill-probe,${ds.peopleDn}`;
    await root.add(probe, { objectClass: ['inetOrgPerson'], uid: 'feed-kill-probe', cn: 'P', sn: 'P' });
    await receiver.waitFor(
      () => receiver.accepted().length > 0,
      30_000,
      `the worker to start\n${childOutput.join('')}`,
    );

    let kills = 0;
    for (let n = 0; n < CHANGES; n++) {
      const user = n % USERS;
      const [attribute] = CYCLE[Math.floor(n / USERS) % CYCLE.length] as [string, string];
      await root.modify(userDn(user), [
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: attribute, values: [`v${n}`] }),
        }),
      ]);
      if (n % Math.ceil(CHANGES / 3) === Math.ceil(CHANGES / 6)) {
        await kill(child);
        kills++;
        child = startWorker();
      }
    }
    expect(kills).toBeGreaterThanOrEqual(2);

    const changeEvents = () =>
      receiver.accepted().filter((d) => ids.has(d.event?.resourceId) && d.event.change === 'updated');
    await receiver.waitFor(
      () => changeEvents().length >= CHANGES,
      120_000,
      `all ${CHANGES} changes\n${childOutput.join('').slice(-3000)}`,
    );
    const perUser = new Map<number, string[]>();
    for (const delivery of changeEvents()) {
      const user = ids.get(delivery.event.resourceId) as number;
      perUser.set(user, [...(perUser.get(user) ?? []), ...delivery.event.changedAttributes]);
    }
    const rounds = Math.ceil(CHANGES / USERS);
    for (let user = 0; user < USERS; user++) {
      const expected = Array.from({ length: rounds }, (_, round) => round * USERS + user)
        .filter((n) => n < CHANGES)
        .map((n) => (CYCLE[Math.floor(n / USERS) % CYCLE.length] as [string, string])[1]);
      expect(perUser.get(user), `user ${user}`).toEqual(expected);
    }
  }, 240_000);
});
