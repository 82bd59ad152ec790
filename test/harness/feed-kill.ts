/**
 * The change feed's kill tests (issue 19), whatever the directory: the feed runs in a
 * `scim-ldap-bridge worker` child process, is SIGKILLed and started again while changes are made
 * directly in the directory, and afterwards every change must have been delivered at least once,
 * per entry in the order it was made. Used by test/integration/feed/kill.test.ts (slapd),
 * test/integration/389ds/feed-kill.test.ts and test/integration/ad/feed-kill.test.ts.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import { Redis } from 'ioredis';
import { Attribute, Change, type Client } from 'ldapts';
import { readPosition } from '../../src/feed/index.ts';
import type { Delivery, Receiver } from '../integration/jobs/receiver.ts';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** The attribute pairs (LDAP, SCIM) each change replaces, in turn, so the sequence shows the order. */
export type KillCycle = readonly (readonly [ldap: string, scim: string])[];

/** A `scim-ldap-bridge worker` with the feed on, delivering to one webhook, killable. */
export class FeedWorker {
  readonly output: string[] = [];
  #child: ChildProcess | undefined;
  readonly #env: Record<string, string>;

  /** `env`: the directory's settings (ldap.*, mappings.dir); redis and the webhook are added. */
  constructor(env: Record<string, string>, redisUrl: string, webhook: { url: string; secret: string }) {
    this.#env = {
      PATH: process.env.PATH ?? '',
      SCIM_BRIDGE_REDIS_URL: redisUrl,
      SCIM_BRIDGE_LOG_LEVEL: 'warn',
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_BACKOFF_BASE_MS: '50',
      SCIM_BRIDGE_EVENTS_BACKOFF_MAX_MS: '500',
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
        { name: 'hook', url: webhook.url, secret: webhook.secret, concurrency: 16, ratePerSecond: 100_000 },
      ]),
      SCIM_BRIDGE_FEED_ENABLED: 'true',
      SCIM_BRIDGE_FEED_POLL_INTERVAL_MS: '50',
      // A killed holder's lease lapses quickly, so the restarted worker takes over soon.
      SCIM_BRIDGE_FEED_LEASE_TTL_MS: '1500',
      ...env,
    };
  }

  start(): void {
    const proc = spawn(path.join(repoRoot, 'node_modules/.bin/node'), ['src/cli/main.ts', 'worker'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: this.#env,
    });
    const keep = (chunk: Buffer) => {
      this.output.push(chunk.toString());
      if (this.output.length > 200) this.output.shift();
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    this.#child = proc;
  }

  kill(): Promise<void> {
    const proc = this.#child;
    if (!proc || proc.exitCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  }

  /** Until the worker holds a position (its first is "now"), bounded. */
  async waitForPosition(redisUrl: string, keyPrefix = 'scim-bridge:', boundMs = 30_000): Promise<void> {
    const positions = new Redis(redisUrl);
    try {
      const deadline = Date.now() + boundMs;
      while (!(await readPosition(positions, keyPrefix)) && Date.now() < deadline)
        await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      positions.disconnect();
    }
  }
}

/**
 * `changes` direct changes, change n to user n % users replacing the cycle's attribute of its
 * round; the worker killed and started again three times spread over them. Returns the kills.
 */
export async function changeWhileKilling(options: {
  changes: number;
  users: number;
  cycle: KillCycle;
  worker: FeedWorker;
  modify: (user: number, ldapAttribute: string, value: string) => Promise<void>;
  /** Before each kill (e.g. until the running worker has delivered something: killed mid-work). */
  beforeKill?: () => Promise<void>;
}): Promise<number> {
  const { changes, users, cycle, worker } = options;
  let kills = 0;
  for (let n = 0; n < changes; n++) {
    const [attribute] = cycle[Math.floor(n / users) % cycle.length] as readonly [string, string];
    await options.modify(n % users, attribute, `v${n}`);
    if (n % Math.ceil(changes / 3) === Math.ceil(changes / 6)) {
      await options.beforeKill?.();
      await worker.kill();
      kills++;
      worker.start();
    }
  }
  return kills;
}

/**
 * The run the log feeds' kill tests share (slapd's accesslog, 389-DS's changelog): start the
 * worker, wait until it delivers a probe, make the changes with `root` while killing it, and wait
 * for every change's event. Returns the kills and the updates delivered per user, for the test's
 * own expectations.
 */
export async function runKillScenario(options: {
  root: Client;
  worker: FeedWorker;
  receiver: Receiver;
  redisUrl: string;
  /** A DN under the mapped users to add first: its event shows the worker delivers. */
  probeDn: string;
  userDn: (user: number) => string;
  /** The users' SCIM ids (lower case) → their index. */
  ids: ReadonlyMap<string, number>;
  changes: number;
  users: number;
  cycle: KillCycle;
}): Promise<{ kills: number; perUser: Map<number, string[][]> }> {
  const { root, worker, receiver, ids, changes } = options;
  worker.start();
  await worker.waitForPosition(options.redisUrl);
  await root.add(options.probeDn, {
    objectClass: ['inetOrgPerson'],
    uid: 'feed-kill-probe',
    cn: 'P',
    sn: 'P',
  });
  await receiver.waitFor(
    () => receiver.accepted().length > 0,
    30_000,
    `the worker to start\n${worker.output.join('')}`,
  );
  const kills = await changeWhileKilling({
    changes,
    users: options.users,
    cycle: options.cycle,
    worker,
    modify: (user, attribute, value) =>
      root.modify(options.userDn(user), [
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: attribute, values: [value] }),
        }),
      ]),
  });
  // Updates only: the adds made before the worker first started may be delivered too (at least once).
  const changeEvents = () =>
    receiver.accepted().filter((d) => ids.has(d.event?.resourceId) && d.event.change === 'updated');
  await receiver.waitFor(
    () => changeEvents().length >= changes,
    120_000,
    `all ${changes} changes\n${worker.output.join('').slice(-3000)}`,
  );
  return { kills, perUser: updatesPerUser(changeEvents(), ids) };
}

/** The SCIM attributes each user's changes named, in the order they were made. */
export function expectedSequence(
  user: number,
  options: { changes: number; users: number; cycle: KillCycle },
) {
  const { changes, users, cycle } = options;
  const rounds = Math.ceil(changes / users);
  return Array.from({ length: rounds }, (_, round) => round * users + user)
    .filter((n) => n < changes)
    .map((n) => (cycle[Math.floor(n / users) % cycle.length] as readonly [string, string])[1]);
}

/** The updates delivered per user (by the resource ids of the users), in arrival order. */
export function updatesPerUser(accepted: readonly Delivery[], ids: ReadonlyMap<string, number>) {
  const perUser = new Map<number, string[][]>();
  for (const delivery of accepted) {
    const user = ids.get(delivery.event?.resourceId);
    if (user === undefined || delivery.event.change !== 'updated') continue;
    perUser.set(user, [...(perUser.get(user) ?? []), delivery.event.changedAttributes as string[]]);
  }
  return perUser;
}

/**
 * Whether `events` (each the attribute names of one delivery) deliver `expected` at least once in
 * order, where one event may fold consecutive changes (Active Directory gives an entry as it
 * stands: changes within one poll arrive as one update naming each changed attribute once) and
 * may repeat the segment before it (at least once). Returns the first mismatch, or undefined.
 */
export function foldedInOrder(expected: readonly string[], events: readonly string[][]): string | undefined {
  // The positions in `expected` the events so far may have reached, and those of one event before.
  let reached = new Set([0]);
  let before = new Set<number>();
  for (const [index, names] of events.entries()) {
    const wanted = new Set(names);
    const next = new Set<number>();
    for (const start of new Set([...reached, ...before])) {
      const seen = new Set<string>();
      for (let end = start; end < expected.length && wanted.has(expected[end] as string); end++) {
        seen.add(expected[end] as string);
        if (seen.size === wanted.size) next.add(end + 1);
      }
    }
    if (next.size === 0)
      return `event ${index} [${names.join(', ')}] follows none of the positions ${[...reached].join('/')} of [${expected.join(', ')}]`;
    before = reached;
    reached = next;
  }
  return reached.has(expected.length)
    ? undefined
    : `delivered up to ${Math.max(...reached)} of ${expected.length} changes`;
}
