/**
 * `npm run bench`: the bridge against raw ldapts on the same throwaway slapd, in the same run.
 * POST /Users vs an LDAP add of the same entry; GET /Users/{id} vs an LDAP search by entryUUID for
 * the same attributes; at concurrency 1 and 16. Prints each figure and the bridge/raw ratio.
 * Loopback only; every loop is bounded by a count.
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'ldapts';
import { loadConfig } from '../src/config/index.ts';
import { startBridge } from '../src/main.ts';

const COUNTS = { 1: 400, 16: 2000 } as const;
const POOL = 4;

interface Figure {
  opsPerSecond: number;
  p50: number;
  p99: number;
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

function row(name: string, concurrency: number, bridge: Figure, raw: Figure): string {
  const f = (n: number) => n.toFixed(0).padStart(7);
  const ms = (n: number) => n.toFixed(2).padStart(6);
  return `${name.padEnd(22)} c=${String(concurrency).padEnd(3)} bridge ${f(bridge.opsPerSecond)}/s (p50 ${ms(bridge.p50)} ms, p99 ${ms(bridge.p99)} ms)   raw ${f(raw.opsPerSecond)}/s (p50 ${ms(raw.p50)} ms, p99 ${ms(raw.p99)} ms)   ratio ${(bridge.opsPerSecond / raw.opsPerSecond).toFixed(2)}`;
}

async function main(): Promise<void> {
  const token = randomBytes(18).toString('base64url');
  const config = loadConfig({
    env: { SCIM_BRIDGE_TOKEN: token, SCIM_BRIDGE_SERVER_PORT: '0', SCIM_BRIDGE_LOG_LEVEL: 'silent' },
  });
  const bridge = await startBridge({ config, seedLdif: [] });
  const slapd = bridge.local?.slapd;
  if (!slapd) throw new Error('the benchmark needs the local default slapd');
  const clients = await Promise.all(
    Array.from({ length: POOL }, async () => {
      const c = new Client({ url: slapd.url });
      await c.bind(slapd.serviceDn, slapd.servicePassword);
      return c;
    }),
  );
  const headers = { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' };
  const run = randomBytes(3).toString('hex');
  const readAttributes = [
    'entryUUID',
    'entryCSN',
    'createTimestamp',
    'modifyTimestamp',
    'uid',
    'scimExternalId',
    'givenName',
    'sn',
    'displayName',
    'title',
    'preferredLanguage',
    'mail',
    'telephoneNumber',
    'mobile',
    'scimActive',
    'employeeNumber',
    'departmentNumber',
    'o',
    'manager',
  ];
  console.log(
    `scim-ldap-bridge benchmark: slapd ${slapd.url}, bridge ${bridge.baseUrl}, ldapts pool ${POOL}, node ${process.version}`,
  );

  const bridgeIds: string[] = [];
  const rawUuids: string[] = [];
  const results: string[] = [];
  const ratios: Record<string, number> = {};
  for (const concurrency of [1, 16] as const) {
    const n = COUNTS[concurrency];
    const bridgePost = await measure(n, concurrency, async (i) => {
      const userName = `b${run}c${concurrency}u${i}`;
      const response = await fetch(`${bridge.baseUrl}/Users`, {
        method: 'POST',
        headers,
        body: JSON.stringify({
          schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
          userName,
          name: { givenName: 'Bench', familyName: `User${i}` },
          displayName: `Bench User ${i}`,
          emails: [{ value: `${userName}@example.org`, type: 'work', primary: true }],
          active: true,
        }),
      });
      const body = (await response.json()) as { id?: string };
      if (response.status !== 201 || !body.id)
        throw new Error(`POST failed: ${response.status} ${JSON.stringify(body)}`);
      bridgeIds.push(body.id);
    });
    const rawAdd = await measure(n, concurrency, async (i) => {
      const uid = `r${run}c${concurrency}u${i}`;
      const client = clients[i % POOL]!;
      await client.add(`uid=${uid},ou=People,dc=example,dc=com`, {
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
    results.push(row('POST /Users vs add', concurrency, bridgePost, rawAdd));
    ratios[`POST c=${concurrency}`] = bridgePost.opsPerSecond / rawAdd.opsPerSecond;

    if (rawUuids.length === 0) {
      const { searchEntries } = await clients[0]!.search('ou=People,dc=example,dc=com', {
        scope: 'one',
        filter: `(uid=r${run}*)`,
        attributes: ['entryUUID'],
        paged: { pageSize: 500 },
      });
      rawUuids.push(...searchEntries.map((e) => String(e.entryUUID)));
    }
    const gets = n * 2;
    const bridgeGet = await measure(gets, concurrency, async (i) => {
      const id = bridgeIds[i % bridgeIds.length]!;
      const response = await fetch(`${bridge.baseUrl}/Users/${id}`, { headers });
      await response.arrayBuffer();
      if (response.status !== 200) throw new Error(`GET failed: ${response.status}`);
    });
    const rawGet = await measure(gets, concurrency, async (i) => {
      const uuid = rawUuids[i % rawUuids.length]!;
      const { searchEntries } = await clients[i % POOL]!.search('ou=People,dc=example,dc=com', {
        scope: 'one',
        filter: `(&(objectClass=inetOrgPerson)(entryUUID=${uuid}))`,
        attributes: readAttributes,
        sizeLimit: 2,
      });
      if (searchEntries.length !== 1) throw new Error('raw read found no entry');
    });
    results.push(row('GET /Users/{id} vs search', concurrency, bridgeGet, rawGet));
    ratios[`GET c=${concurrency}`] = bridgeGet.opsPerSecond / rawGet.opsPerSecond;
  }
  for (const line of results) console.log(line);
  console.log(
    `target (issue 2): both ratios >= 0.5 at c=16: POST ${ratios['POST c=16']?.toFixed(2)}, GET ${ratios['GET c=16']?.toFixed(2)}`,
  );
  await Promise.all(clients.map((c) => c.unbind()));
  await bridge.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
