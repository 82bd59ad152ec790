/**
 * Two instances behind HAProxy, proven with kill -9 (issue 18). 16 clients send creates and
 * patches, each with its own Idempotency-Key, through HAProxy (TLS), retrying with the same key
 * on a network error, a timeout, a 5xx or a 409 with Retry-After. Meanwhile bridge-1 is SIGKILLed
 * and started again twice, then both instances get a SIGTERM rolling restart (the next one only
 * once HAProxy counts the restarted one as up). Afterwards: every acknowledged create is in the
 * directory exactly once with its id, no userName twice, every acknowledged patch is there, every
 * entry's created event and every patch's updated event was delivered, and no client ended with
 * an error it could not retry. A create whose answer died with its instance is answered on retry
 * from the journal's record of its key (docs/architecture.md §Idempotency): 201, never a 409
 * conflict with itself; the test counts those conflicts and expects none.
 *
 * CLUSTER_KILL_TEST_OPS (default 1000: 500 creates + 500 patches, about a minute on two loaded
 * cores, as CI runs it beside other suites) sets the number of writes; the issue's 5,000 is
 * CLUSTER_KILL_TEST_OPS=5000. The run is bounded by counts, never by wall-clock time: the
 * disruptions happen after given numbers of writes, and writes past each next mark wait until
 * the disruption before it is over, so a slow machine sees the same run as a fast one.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningCluster, startCluster } from '../../../src/localdev/cluster.ts';
import { type ClusterClient, type ClusterResponse, clusterClient } from '../../harness/cluster-client.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const SECRET = 'cluster-kill-test-secret-0123456789';
const OPS = Number(process.env.CLUSTER_KILL_TEST_OPS ?? 1000);
const PAIRS = Math.ceil(OPS / 2);
const CLIENTS = 16;
/** Attempts per write before a client gives up (each attempt ends by itself: a 10 s timeout). */
const MAX_ATTEMPTS = 100;

let cluster: RunningCluster;
let receiver: Receiver;
let client: ClusterClient;
const token = randomBytes(18).toString('base64url');
const output: string[] = [];

beforeAll(async () => {
  receiver = await startReceiver(SECRET);
  cluster = await startCluster({
    token,
    seedLdif: [],
    env: {
      SCIM_BRIDGE_SERVER_REQUEST_TIMEOUT_MS: '5000',
      SCIM_BRIDGE_IDEMPOTENCY_LOCK_TTL_SECONDS: '5',
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_RECOVERY_GRACE_MS: '1000',
      SCIM_BRIDGE_EVENTS_RECOVERY_INTERVAL_MS: '300',
      SCIM_BRIDGE_EVENTS_BACKOFF_BASE_MS: '50',
      SCIM_BRIDGE_EVENTS_BACKOFF_MAX_MS: '500',
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
        { name: 'hook', url: receiver.url, secret: SECRET, concurrency: 16, ratePerSecond: 100_000 },
      ]),
    },
    onOutput: (name, text) => {
      output.push(`[${name}] ${text}`);
      if (output.length > 300) output.shift();
    },
  });
  client = clusterClient(`${cluster.url}/scim/v2`, token, cluster.certificate, CLIENTS);
}, 120_000);

afterAll(async () => {
  client?.close();
  await cluster?.stop();
  await receiver?.close();
});

interface Tally {
  attempts: number;
  retried: number;
  createdAcknowledged: Map<string, string>; // userName -> id
  /** Keyed creates whose retry got 409 uniqueness: the first attempt wrote and its answer was lost. */
  conflictsOnRetry: Map<string, string>;
  /** Creates acknowledged with a fresh (not replayed) 201 after more than one attempt. */
  createdOnRetry: number;
  patchAcknowledged: Map<string, string>; // id -> displayName
  replayed: number;
  unretryable: string[];
}

/** Retryable: no answer, a 5xx, 429, or 409 with Retry-After (the key's first request still runs). */
function retryable(outcome: ClusterResponse | Error): boolean {
  if (outcome instanceof Error) return true;
  return (
    outcome.status >= 500 ||
    outcome.status === 429 ||
    (outcome.status === 409 && outcome.headers['retry-after'] !== undefined)
  );
}

async function withRetries(
  tally: Tally,
  send: () => Promise<ClusterResponse>,
): Promise<{ last: ClusterResponse | Error; attempts: number }> {
  let last: ClusterResponse | Error = new Error('not sent');
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    tally.attempts++;
    if (attempt > 1) tally.retried++;
    last = await send().catch((error: Error) => error);
    if (!retryable(last)) return { last, attempts: attempt };
    await new Promise((resolve) => setTimeout(resolve, Math.min(500, 20 * attempt)));
  }
  return { last, attempts: MAX_ATTEMPTS };
}

async function findByUserName(userName: string): Promise<string | undefined> {
  const filter = encodeURIComponent(`userName eq "${userName}"`);
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const r = await client.send('GET', `/Users?filter=${filter}`).catch(() => undefined);
    if (r?.status === 200) return r.body.Resources?.[0]?.id;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/** One create and one patch of the same user, each under its own key, each retried with it. */
async function pair(index: number, tally: Tally): Promise<void> {
  const userName = `ck-${index}`;
  const createKey = randomUUID();
  const created = await withRetries(tally, () =>
    client.send('POST', '/Users', {
      body: { schemas: [USER], userName },
      headers: { 'Idempotency-Key': createKey },
    }),
  );
  let id: string | undefined;
  const c = created.last;
  if (!(c instanceof Error) && c.status === 201 && c.body?.id) {
    id = c.body.id;
    tally.createdAcknowledged.set(userName, c.body.id);
    if (c.headers['idempotency-replayed'] === 'true') tally.replayed++;
    else if (created.attempts > 1) tally.createdOnRetry++;
  } else if (
    !(c instanceof Error) &&
    c.status === 409 &&
    c.body?.scimType === 'uniqueness' &&
    created.attempts > 1
  ) {
    // The first attempt reached the directory, its instance died before the answer was stored,
    // and the retry executed again and found the user: what the journal's record of the key is
    // there to prevent. Counted (and expected to be none); the user is still checked below.
    id = await findByUserName(userName);
    if (id) tally.conflictsOnRetry.set(userName, id);
  }
  if (!id) {
    tally.unretryable.push(
      `create ${userName}: ${c instanceof Error ? c.message : `${c.status} ${JSON.stringify(c.body)}`}`,
    );
    return;
  }
  const displayName = `patched-${index}`;
  const patchKey = randomUUID();
  const patched = await withRetries(tally, () =>
    client.send('PATCH', `/Users/${id}`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: displayName }] },
      headers: { 'Idempotency-Key': patchKey },
    }),
  );
  const p = patched.last;
  if (!(p instanceof Error) && (p.status === 200 || p.status === 204)) {
    tally.patchAcknowledged.set(id, displayName);
    if (p.headers['idempotency-replayed'] === 'true') tally.replayed++;
  } else {
    tally.unretryable.push(
      `patch ${userName}: ${p instanceof Error ? p.message : `${p.status} ${JSON.stringify(p.body)}`}`,
    );
  }
}

async function waitUntilBalancerCounts(name: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    const states = await cluster.haproxy.serverStates().catch(() => ({}) as Record<string, string>);
    if (states[name] === 'UP') return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`HAProxy did not count ${name} as up again`);
}

async function directoryUsers(): Promise<Map<string, { ids: string[]; displayName?: string }>> {
  const ldap = new Client({ url: cluster.slapd.url });
  await ldap.bind(cluster.slapd.rootDn, cluster.slapd.rootPassword);
  const { searchEntries } = await ldap.search('ou=people,dc=example,dc=com', {
    scope: 'one',
    filter: '(uid=ck-*)',
    attributes: ['uid', 'entryUUID', 'displayName'],
    paged: { pageSize: 500 },
  });
  await ldap.unbind();
  const users = new Map<string, { ids: string[]; displayName?: string }>();
  for (const e of searchEntries) {
    const uid = String(e.uid);
    const seen = users.get(uid) ?? { ids: [] };
    seen.ids.push(String(e.entryUUID));
    if (e.displayName !== undefined) seen.displayName = String(e.displayName);
    users.set(uid, seen);
  }
  return users;
}

describe('two instances behind HAProxy, kill -9 and a rolling restart', () => {
  it(`every acknowledged write of ${PAIRS * 2} is in the directory once and its event delivered`, async () => {
    const tally: Tally = {
      attempts: 0,
      retried: 0,
      createdAcknowledged: new Map(),
      conflictsOnRetry: new Map(),
      createdOnRetry: 0,
      patchAcknowledged: new Map(),
      replayed: 0,
      unretryable: [],
    };
    const [bridge1, bridge2] = cluster.instances;
    if (!bridge1 || !bridge2) throw new Error('the cluster should have two instances');
    const kill1 = async () => {
      await bridge1.kill();
      await bridge1.start();
      await waitUntilBalancerCounts(bridge1.name);
    };
    const rolling = async () => {
      for (const instance of [bridge1, bridge2]) {
        await instance.stop();
        await instance.start();
        await waitUntilBalancerCounts(instance.name);
      }
    };
    // After how many started pairs each disruption happens; pairs past the next mark wait for it.
    const disruptions = [
      { at: Math.floor(PAIRS * 0.2), act: kill1, done: false },
      { at: Math.floor(PAIRS * 0.4), act: kill1, done: false },
      { at: Math.floor(PAIRS * 0.6), act: rolling, done: false },
    ];
    const gateFor = (index: number) =>
      disruptions.find((d) => !d.done && index >= d.at + Math.floor(PAIRS * 0.15));
    let next = 0;
    const sender = async () => {
      for (;;) {
        const index = next++;
        if (index >= PAIRS) return;
        while (gateFor(index)) await new Promise((resolve) => setTimeout(resolve, 20));
        await pair(index, tally);
      }
    };
    const disrupter = async () => {
      for (const d of disruptions) {
        while (next < d.at) await new Promise((resolve) => setTimeout(resolve, 10));
        await d.act();
        d.done = true;
      }
    };
    await Promise.all([disrupter(), ...Array.from({ length: CLIENTS }, sender)]);

    // The directory: each acknowledged create once with its id, each acknowledged patch applied.
    const users = await directoryUsers();
    const duplicates = [...users.values()].filter((u) => u.ids.length > 1).length;
    for (const [userName, id] of [...tally.createdAcknowledged, ...tally.conflictsOnRetry])
      expect(users.get(userName)?.ids, userName).toEqual([id]);
    const byId = new Map([...users.values()].map((u) => [u.ids[0], u.displayName]));
    for (const [id, displayName] of tally.patchAcknowledged) expect(byId.get(id), id).toBe(displayName);

    // Events: one created event id per entry in the directory (acknowledged or not), and an
    // updated event for every acknowledged patch.
    const allIds = [...users.values()].flatMap((u) => u.ids);
    const delivered = (type: string) =>
      new Set(
        receiver
          .accepted()
          .filter((d) => d.event?.type === type)
          .map((d) => d.event.resourceId as string),
      );
    const missing = () => {
      const created = delivered('user.created');
      const updated = delivered('user.updated');
      return [
        ...allIds.filter((id) => !created.has(id)),
        ...[...tally.patchAcknowledged.keys()].filter((id) => !updated.has(id)),
      ];
    };
    await receiver
      .waitFor(() => missing().length === 0, 120_000, 'created and updated events')
      .catch((error: Error) => {
        throw new Error(
          `${error.message}: ${missing().length} events missing\n${output.join('').slice(-3000)}`,
        );
      });
    const createdEvents = receiver.accepted().filter((d) => d.event?.type === 'user.created');
    const createdEventIds = new Map<string, Set<string>>();
    for (const d of createdEvents) {
      const ids = createdEventIds.get(d.event.resourceId) ?? new Set<string>();
      ids.add(d.eventId);
      createdEventIds.set(d.event.resourceId, ids);
    }
    for (const id of allIds) expect(createdEventIds.get(id)?.size, id).toBe(1);
    expect(receiver.requests.every((d) => d.signatureValid)).toBe(true);
    const updatedEvents = receiver.accepted().filter((d) => d.event?.type === 'user.updated').length;

    process.stdout.write(
      `cluster kill test: ${PAIRS * 2} writes sent (${PAIRS} creates, ${PAIRS} patches) in ${tally.attempts} attempts (${tally.retried} retries), ` +
        `2 kill -9 + 1 rolling restart; acknowledged ${tally.createdAcknowledged.size} creates + ${tally.patchAcknowledged.size} patches ` +
        `(${tally.replayed} replayed answers, ${tally.createdOnRetry} creates answered 201 on a retry), ${tally.conflictsOnRetry.size} keyed creates that conflicted with themselves on retry (409), ` +
        `${users.size} users in the directory, ${duplicates} duplicates, ${createdEvents.length} created + ${updatedEvents} updated events delivered, ` +
        `${tally.unretryable.length} unretryable errors\n`,
    );
    expect(tally.unretryable).toEqual([]);
    expect(duplicates).toBe(0);
    expect(tally.conflictsOnRetry.size, 'keyed creates answered 409 on retry').toBe(0);
    expect(tally.createdAcknowledged.size).toBe(PAIRS);
    expect(tally.patchAcknowledged.size).toBe(PAIRS);
    expect(users.size).toBe(PAIRS);
  }, 900_000);
});
