/**
 * The benchmark's load generator, run in a worker thread so that generating load does not share
 * the bridge's event loop. The same worker drives both sides: HTTP to the bridge (node:http with
 * keep-alive) and raw ldapts calls to slapd. Loopback only; every phase is bounded by a count.
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { AndFilter, Client, EqualityFilter } from 'ldapts';

export interface LoadSetup {
  bridgeUrl: string;
  token: string;
  ldapUrl: string;
  bindDn: string;
  bindPassword: string;
  pool: number;
  run: string;
  readAttributes: string[];
}

export interface Phase {
  kind: 'bridgePost' | 'rawAdd' | 'bridgeGet' | 'rawGet';
  concurrency: number;
  count: number;
  tag: string;
}

export interface Figure {
  opsPerSecond: number;
  p50: number;
  p99: number;
}

const setup = workerData as LoadSetup;
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
const base = new URL(setup.bridgeUrl);
const clients: Client[] = [];
const bridgeIds: string[] = [];
const rawUuids: string[] = [];

function request(method: string, path: string, body?: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method,
        path: `${base.pathname}${path}`,
        headers: {
          Authorization: `Bearer ${setup.token}`,
          ...(body
            ? { 'Content-Type': 'application/scim+json', 'Content-Length': Buffer.byteLength(body) }
            : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

async function measure(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<void>,
): Promise<Figure> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < total) {
        const i = next++;
        const t0 = performance.now();
        await op(i);
        latencies.push(performance.now() - t0);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return { opsPerSecond: total / seconds, p50: at(0.5), p99: at(0.99) };
}

async function runPhase(phase: Phase): Promise<Figure> {
  const { concurrency, count, tag } = phase;
  switch (phase.kind) {
    case 'bridgePost':
      return measure(count, concurrency, async (i) => {
        const userName = `b${setup.run}${tag}u${i}`;
        const r = await request(
          'POST',
          '/Users',
          JSON.stringify({
            schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
            userName,
            name: { givenName: 'Bench', familyName: `User${i}` },
            displayName: `Bench User ${i}`,
            emails: [{ value: `${userName}@example.org`, type: 'work', primary: true }],
            active: true,
          }),
        );
        if (r.status !== 201) throw new Error(`POST failed: ${r.status} ${r.text}`);
        bridgeIds.push((JSON.parse(r.text) as { id: string }).id);
      });
    case 'rawAdd':
      return measure(count, concurrency, async (i) => {
        const uid = `r${setup.run}${tag}u${i}`;
        await clients[i % clients.length]!.add(`uid=${uid},ou=People,dc=example,dc=com`, {
          objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson', 'scimResource'],
          uid,
          cn: `Bench User ${i}`,
          sn: `User${i}`,
          givenName: 'Bench',
          displayName: `Bench User ${i}`,
          mail: `${uid}@example.org`,
          scimActive: 'TRUE',
        });
      });
    case 'bridgeGet':
      return measure(count, concurrency, async (i) => {
        const r = await request('GET', `/Users/${bridgeIds[i % bridgeIds.length]}`);
        if (r.status !== 200) throw new Error(`GET failed: ${r.status}`);
      });
    case 'rawGet': {
      if (rawUuids.length === 0) {
        const { searchEntries } = await clients[0]!.search('ou=People,dc=example,dc=com', {
          scope: 'one',
          filter: `(uid=r${setup.run}*)`,
          attributes: ['entryUUID'],
          paged: { pageSize: 500 },
        });
        rawUuids.push(...searchEntries.map((e) => String(e.entryUUID)));
      }
      return measure(count, concurrency, async (i) => {
        const { searchEntries } = await clients[i % clients.length]!.search('ou=People,dc=example,dc=com', {
          scope: 'one',
          filter: new AndFilter({
            filters: [
              new EqualityFilter({ attribute: 'objectClass', value: 'inetOrgPerson' }),
              new EqualityFilter({ attribute: 'entryUUID', value: rawUuids[i % rawUuids.length]! }),
            ],
          }),
          attributes: setup.readAttributes,
          sizeLimit: 2,
        });
        if (searchEntries.length !== 1) throw new Error('raw read found no entry');
      });
    }
  }
}

for (let i = 0; i < setup.pool; i++) {
  const c = new Client({ url: setup.ldapUrl });
  await c.bind(setup.bindDn, setup.bindPassword);
  clients.push(c);
}
parentPort?.on('message', (phase: Phase | 'close') => {
  if (phase === 'close') {
    Promise.all(clients.map((c) => c.unbind())).finally(() => {
      agent.destroy();
      parentPort?.postMessage('closed');
    });
    return;
  }
  runPhase(phase).then(
    (figure) => parentPort?.postMessage({ figure }),
    (error: unknown) => parentPort?.postMessage({ error: String(error) }),
  );
});
parentPort?.postMessage('ready');
