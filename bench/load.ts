/**
 * The benchmark's load generator, run in a worker thread so that generating load does not share
 * the bridge's event loop. The same worker drives both sides: HTTP to the bridge (node:http with
 * keep-alive) and raw ldapts calls to slapd. Loopback only; every phase is bounded by a count.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { AndFilter, Client, EqualityFilter } from 'ldapts';
import { httpClient, measure as measureLoop } from './measure.ts';

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
  /** CPU of the measured process per operation, when known (µs). */
  cpuMicrosPerOp?: number;
}

const setup = workerData as LoadSetup;
const bridge = httpClient(setup.bridgeUrl, setup.token);
const clients: Client[] = [];
const bridgeIds: string[] = [];
const rawUuids: string[] = [];

/** The shared loop (bench/measure.ts), as the figure this worker reports. */
async function measure(
  total: number,
  concurrency: number,
  op: (i: number) => Promise<void>,
): Promise<Figure> {
  const f = await measureLoop(total, concurrency, 600, op);
  return { opsPerSecond: f.perSecond, p50: f.p50, p99: f.p99 };
}

async function runPhase(phase: Phase): Promise<Figure> {
  const { concurrency, count, tag } = phase;
  switch (phase.kind) {
    case 'bridgePost':
      return measure(count, concurrency, async (i) => {
        const userName = `b${setup.run}${tag}u${i}`;
        const r = await bridge.request('POST', '/Users', {
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName,
          name: { givenName: 'Bench', familyName: `User${i}` },
          displayName: `Bench User ${i}`,
          emails: [{ value: `${userName}@example.org`, type: 'work', primary: true }],
          active: true,
        });
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
        const r = await bridge.request('GET', `/Users/${bridgeIds[i % bridgeIds.length]}`);
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
      bridge.close();
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
