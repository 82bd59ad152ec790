/**
 * `npm run bench -- --cluster` (issue 18), in one run on one machine:
 *  1. throughput at c=16 of two instances behind HAProxy (TLS at HAProxy, round-robin) against
 *     one instance reached directly (plain HTTP), GET /Users/{id} and POST /Users. All processes
 *     share this machine's cores, so on a small machine this measures what the load balancer and
 *     TLS cost, not how the bridge scales with instances;
 *  2. the invalidation window: the age of each write notice (src/cluster/write-notices.ts) when
 *     another instance has acted on it. Writes go through HAProxy to the cluster's instances; a
 *     third instance in this process, serving reads meanwhile, records each notice's age.
 * Prints figures; asserts nothing. Loopback only; every loop is bounded by a count and a duration.
 */
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config/index.ts';
import { startCluster } from '../src/localdev/cluster.ts';
import { startBridge } from '../src/main.ts';
import { type ClusterClient, clusterClient } from '../test/harness/cluster-client.ts';
import { argValue, type Figure, fmt, httpClient, measure } from './measure.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const CONCURRENCY = 16;
const SECONDS = 10;

function percentile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function throughput(
  label: string,
  post: (i: number) => Promise<number>,
  get: (id: string) => Promise<number>,
  ids: string[],
  count: number,
): Promise<{ post: Figure; get: Figure }> {
  const fail = (what: string, status: number) => {
    throw new Error(`${label}: ${what} answered ${status}`);
  };
  const postFigure = await measure(count, CONCURRENCY, SECONDS, async (i) => {
    const status = await post(i);
    if (status !== 201) fail('POST', status);
  });
  const getFigure = await measure(count * 2, CONCURRENCY, SECONDS, async (i) => {
    const status = await get(ids[i % ids.length] ?? '');
    if (status !== 200) fail('GET', status);
  });
  return { post: postFigure, get: getFigure };
}

async function seedIds(lb: ClusterClient, run: string, n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await lb.send('POST', '/Users', { body: { schemas: [USER], userName: `seed-${run}-${i}` } });
    if (r.status !== 201) throw new Error(`seeding answered ${r.status}`);
    ids.push(r.body.id);
  }
  return ids;
}

export async function runCluster(): Promise<void> {
  const count = argValue('--count', 3000);
  const token = randomBytes(18).toString('base64url');
  const run = randomBytes(3).toString('hex');
  const cluster = await startCluster({ token, seedLdif: [], durableRedis: false });
  const lb = clusterClient(`${cluster.url}/scim/v2`, token, cluster.certificate, CONCURRENCY);
  const first = cluster.instances[0];
  if (!first) throw new Error('the cluster has no instance');
  const direct = httpClient(`${first.url}/scim/v2`, token);
  try {
    console.log(
      `cluster benchmark: ${cluster.instances.length} instances behind HAProxy ${cluster.url} (TLS) vs ${first.name} direct (HTTP), c=${CONCURRENCY}, node ${process.version}`,
    );
    console.log(
      'note: every process shares this machine; on 2 cores this shows the cost of the load balancer and TLS, not scaling',
    );
    const ids = await seedIds(lb, run, 200);
    const body = (i: number, where: string) => ({ schemas: [USER], userName: `b-${run}-${where}-${i}` });
    const one = await throughput(
      'direct',
      async (i) => (await direct.request('POST', '/Users', body(i, 'd'))).status,
      async (id) => (await direct.request('GET', `/Users/${id}`)).status,
      ids,
      count,
    );
    const two = await throughput(
      'haproxy',
      async (i) => (await lb.send('POST', '/Users', { body: body(i, 'lb') })).status,
      async (id) => (await lb.send('GET', `/Users/${id}`)).status,
      ids,
      count,
    );
    console.log(`POST /Users       1 instance direct         ${fmt(one.post)}`);
    console.log(
      `POST /Users       2 instances behind HAProxy ${fmt(two.post)}  ratio ${(two.post.perSecond / one.post.perSecond).toFixed(2)}`,
    );
    console.log(`GET /Users/{id}   1 instance direct         ${fmt(one.get)}`);
    console.log(
      `GET /Users/{id}   2 instances behind HAProxy ${fmt(two.get)}  ratio ${(two.get.perSecond / one.get.perSecond).toFixed(2)}`,
    );
    await invalidationWindow(cluster.slapd, cluster.redis.url, token, lb, run, count);
  } finally {
    direct.close();
    lb.close();
    await cluster.stop();
  }
}

/** Writes through HAProxy at c=16 while an in-process third instance reads and records each notice's age. */
async function invalidationWindow(
  slapd: { url: string; serviceDn: string; servicePassword: string },
  redisUrl: string,
  token: string,
  lb: ClusterClient,
  run: string,
  count: number,
): Promise<void> {
  const windows: number[] = [];
  const config = loadConfig({
    env: {
      SCIM_BRIDGE_TOKEN: token,
      SCIM_BRIDGE_SERVER_PORT: '0',
      SCIM_BRIDGE_LOG_LEVEL: 'silent',
      SCIM_BRIDGE_LDAP_URL: slapd.url,
      SCIM_BRIDGE_LDAP_BIND_DN: slapd.serviceDn,
      SCIM_BRIDGE_LDAP_BIND_PASSWORD: slapd.servicePassword,
      SCIM_BRIDGE_REDIS_URL: redisUrl,
      SCIM_BRIDGE_MAPPINGS_WATCH: 'false',
    },
  });
  const observer = await startBridge({ config, observeInvalidationWindow: (ms) => windows.push(ms) });
  const reader = httpClient(observer.baseUrl, token);
  try {
    // The observer hears notices once its subscription is in place: wait for the first one.
    for (let i = 0; i < 50 && windows.length === 0; i++) {
      await lb.send('POST', '/Users', { body: { schemas: [USER], userName: `w-${run}-warm-up-${i}` } });
      await new Promise((r) => setTimeout(r, 100));
    }
    windows.length = 0;
    let writing = true;
    const page = `/Users?filter=${encodeURIComponent(`userName sw "w-${run}"`)}&sortBy=userName&startIndex=1&count=10`;
    const reads = (async () => {
      let n = 0;
      while (writing && n++ < 100_000) await reader.request('GET', page);
    })();
    const writes = await measure(count, CONCURRENCY, SECONDS, async (i) => {
      const r = await lb.send('POST', '/Users', { body: { schemas: [USER], userName: `w-${run}-${i}` } });
      if (r.status !== 201) throw new Error(`POST answered ${r.status}`);
    });
    writing = false;
    await reads;
    // Notices still on their way are counted once they arrive (bounded wait).
    for (let i = 0; i < 50 && windows.length < writes.count; i++) await new Promise((r) => setTimeout(r, 20));
    windows.sort((a, b) => a - b);
    console.log(
      `invalidation window (write notice sent -> another instance ended its kept lists), ${windows.length} notices ` +
        `for ${writes.count} writes at c=${CONCURRENCY} through HAProxy, the observing instance serving sorted pages meanwhile: ` +
        `p50 ${percentile(windows, 0.5).toFixed(2)} ms, p99 ${percentile(windows, 0.99).toFixed(2)} ms, max ${percentile(windows, 1).toFixed(2)} ms`,
    );
  } finally {
    reader.close();
    await observer.stop();
  }
}
