/**
 * Two real slapds for the failover tests: a provider (syncprov) seeded with the sample directory
 * and a read-only replica that follows it with syncrepl refreshAndPersist (RFC 4533) and answers
 * writes with a referral (updateref). A bridge in-process lists both in ldap.urls, provider first.
 * Also: a bounded read load of concurrent clients that counts answers by status.
 */
import { Client } from 'ldapts';
import { BASE_LDIF, type RunningSlapd, SAMPLE_LDIF, startSlapd } from '../../../src/localdev/slapd.ts';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';

export const SUFFIX = 'dc=example,dc=com';
/** Short operation timeout so that a server that stops answering is noticed well within the deadline. */
export const OPERATION_TIMEOUT_MS = 1_000;
export const REQUEST_TIMEOUT_MS = 5_000;
const METRICS_TOKEN = 'failover-metrics-token-0123456789';

export interface Pair {
  provider: RunningSlapd;
  replica: RunningSlapd;
  bridge: TestBridge;
  stop(): Promise<void>;
}

export async function startPair(): Promise<Pair> {
  const provider = await startSlapd({ provider: true, seedLdif: [BASE_LDIF, SAMPLE_LDIF] });
  const replica = await startSlapd({
    replicaOf: { url: provider.url, rootDn: provider.rootDn, rootPassword: provider.rootPassword },
  });
  await waitUntilReplicated(provider, replica);
  const bridge = await startTestBridge({
    env: {
      SCIM_BRIDGE_LDAP_URLS: JSON.stringify([
        { url: provider.url, role: 'readWrite' },
        { url: replica.url, role: 'readOnly' },
      ]),
      SCIM_BRIDGE_LDAP_BIND_DN: provider.serviceDn,
      SCIM_BRIDGE_LDAP_BIND_PASSWORD: provider.servicePassword,
      SCIM_BRIDGE_LDAP_OPERATION_TIMEOUT_MS: String(OPERATION_TIMEOUT_MS),
      SCIM_BRIDGE_LDAP_CONNECT_TIMEOUT_MS: String(OPERATION_TIMEOUT_MS),
      SCIM_BRIDGE_LDAP_PROBE_INITIAL_MS: '100',
      SCIM_BRIDGE_LDAP_PROBE_MAX_MS: '1000',
      SCIM_BRIDGE_SERVER_REQUEST_TIMEOUT_MS: String(REQUEST_TIMEOUT_MS),
      SCIM_BRIDGE_MAPPINGS_WATCH: 'false',
      SCIM_BRIDGE_METRICS_TOKEN: METRICS_TOKEN,
    },
  });
  return {
    provider,
    replica,
    bridge,
    async stop() {
      for (const slapd of [provider, replica]) signal(slapd, 'SIGCONT');
      await bridge.stop();
      await replica.stop();
      await provider.stop();
    },
  };
}

/** Sends `name` to slapd's process; a process already gone is left alone. */
export function signal(slapd: RunningSlapd, name: NodeJS.Signals): void {
  try {
    process.kill(slapd.pid, name);
  } catch {
    // Already exited.
  }
}

/** Every entry's DN and entryUUID under the suffix, read as the directory's root. */
export async function entriesOf(slapd: RunningSlapd): Promise<Map<string, string>> {
  const client = new Client({ url: slapd.url, connectTimeout: 1_000, timeout: 2_000 });
  try {
    await client.bind(slapd.rootDn, slapd.rootPassword);
    const { searchEntries } = await client.search(SUFFIX, {
      filter: '(objectClass=*)',
      attributes: ['entryUUID'],
    });
    return new Map(searchEntries.map((entry) => [entry.dn.toLowerCase(), String(entry.entryUUID)]));
  } finally {
    await client.unbind().catch(() => undefined);
  }
}

/** Waits (bounded) until the replica holds the provider's entries with the same entryUUIDs. */
export async function waitUntilReplicated(provider: RunningSlapd, replica: RunningSlapd): Promise<void> {
  const giveUpAt = Date.now() + 15_000;
  for (;;) {
    const [wanted, held] = await Promise.all([
      entriesOf(provider),
      entriesOf(replica).catch(() => new Map()),
    ]);
    if (
      wanted.size > 0 &&
      [...wanted].every(([dn, uuid]) => held.get(dn) === uuid) &&
      held.size === wanted.size
    )
      return;
    if (Date.now() > giveUpAt)
      throw new Error(`replica holds ${held.size} of ${wanted.size} entries after 15 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

export interface ReadyServer {
  server: number;
  role: string;
  state: 'up' | 'down';
  since: string;
}

/** /ready's list of directory servers. */
export async function readyServers(bridge: TestBridge): Promise<ReadyServer[]> {
  const response = await fetch(`${bridge.bridge.url}/ready`);
  const body = (await response.json()) as { directoryServers?: ReadyServer[] };
  return body.directoryServers ?? [];
}

/** scim_ldap_server_up per server position, from /metrics: { '1': 1, '2': 0 }. */
export async function serverUpMetric(bridge: TestBridge): Promise<Record<string, number>> {
  const response = await fetch(`${bridge.bridge.url}/metrics`, {
    headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
  });
  const text = await response.text();
  const found: Record<string, number> = {};
  for (const match of text.matchAll(/^scim_ldap_server_up\{([^}]*)\} (\d+)$/gm)) {
    const position = /server="(\d+)"/.exec(match[1] ?? '')?.[1];
    if (position) found[position] = Number(match[2]);
  }
  return found;
}

/** Milliseconds until /ready shows server `position` in `state` (polled every 20 ms, bounded). */
export async function msUntilServer(
  bridge: TestBridge,
  position: number,
  state: 'up' | 'down',
  sinceMs: number,
  limitMs = 20_000,
): Promise<number> {
  for (;;) {
    const servers = await readyServers(bridge);
    if (servers[position - 1]?.state === state) return performance.now() - sinceMs;
    if (performance.now() - sinceMs > limitMs) {
      throw new Error(`server ${position} not ${state} after ${limitMs} ms: ${JSON.stringify(servers)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export interface LoadResult {
  byStatus: Record<string, number>;
  /** Answers that were not 200, with when they came (ms after the load began) and how long they took. */
  failures: Array<{ status: number | string; atMs: number; tookMs: number; detail: string }>;
  maxLatencyMs: number;
  total: number;
}

/**
 * `clients` concurrent loops reading users by id and by filter until `stop()` is called (each
 * loop also ends after `limitMs`): traffic to loopback only, bounded.
 */
export function readLoad(
  bridge: TestBridge,
  ids: string[],
  clients: number,
  limitMs = 60_000,
): { stop(): Promise<LoadResult>; startedAt: number } {
  const startedAt = performance.now();
  const result: LoadResult = { byStatus: {}, failures: [], maxLatencyMs: 0, total: 0 };
  let running = true;
  const userNames = ['alice', 'bob', 'carol', 'dave', 'erin'];
  const loop = async (client: number) => {
    for (let turn = 0; running && performance.now() - startedAt < limitMs; turn++) {
      const path =
        turn % 2 === 0
          ? `/Users/${ids[(client + turn) % ids.length]}`
          : `/Users?filter=${encodeURIComponent(`userName eq "${userNames[(client + turn) % userNames.length]}"`)}`;
      const began = performance.now();
      let status: number | string;
      let detail = '';
      try {
        const response = await bridge.request('GET', path);
        status = response.status;
        if (status !== 200) detail = response.text.slice(0, 200);
        else if (turn % 2 === 1 && response.body?.totalResults !== 1) {
          status = 'wrong-answer';
          detail = response.text.slice(0, 200);
        }
      } catch (error) {
        status = 'network-error';
        detail = (error as Error).message;
      }
      const took = performance.now() - began;
      result.total++;
      result.byStatus[String(status)] = (result.byStatus[String(status)] ?? 0) + 1;
      result.maxLatencyMs = Math.max(result.maxLatencyMs, took);
      if (status !== 200) result.failures.push({ status, atMs: began - startedAt, tookMs: took, detail });
    }
  };
  const loops = Array.from({ length: clients }, (_, client) => loop(client));
  return {
    startedAt,
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
