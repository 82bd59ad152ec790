/**
 * `npm run bench -- --writes [--users N]`: PUT /Users/{id} and PATCH /Users/{id} (replace
 * displayName) at concurrency 1 and 16, next to a raw ldapts modify replacing displayName on the
 * same slapd in the same run. Users are bulk-loaded with slapadd; bridge and raw phases write
 * different users. HTTP load comes from wrk (5 s per phase) when installed, else from a node:http
 * client in this process; raw ldapts calls run in this process (pool of 4 connections, like
 * `npm run bench`) while the bridge is idle. Prints figures and ratios; asserts nothing.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { loadConfig } from '../src/config/index.ts';
import { startBridge } from '../src/main.ts';
import {
  argValue,
  BENCH_PEOPLE,
  type Figure,
  fmt,
  httpClient,
  measure,
  userLdif,
  writeLdif,
  wrkFigure,
} from './measure.ts';
import { runWrk, wrkAvailable } from './wrk.ts';

const PEOPLE = BENCH_PEOPLE;
const POOL = 4;
const WRK_SECONDS = 5;
/** Raw phases: bounded by count, and by duration as a backstop. */
const RAW_COUNT: Record<number, number> = { 1: 1000, 16: 4000 };
const CORE_USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';

const uidOf = (side: 'b' | 'r', i: number) => `w${side}${String(i).padStart(6, '0')}`;

function* usersLdif(users: number): Generator<string> {
  for (const side of ['b', 'r'] as const) {
    for (let i = 0; i < users; i++) {
      const uid = uidOf(side, i);
      yield userLdif(uid, { cn: `Person ${uid}`, sn: uid, displayName: `Person ${uid}` });
    }
  }
}

/** The PUT body for a user: the same attributes it was seeded with, a new displayName. */
function putBody(uid: string, displayName: string): unknown {
  return {
    schemas: [CORE_USER],
    userName: uid,
    name: { givenName: 'Person', familyName: uid, formatted: `Person ${uid}` },
    displayName,
    emails: [{ value: `${uid}@example.org`, type: 'work', primary: true }],
    active: true,
  };
}

const luaString = (s: string) => JSON.stringify(s);

/** Lua for wrk: PUT or PATCH cycling through users; displayName differs on every request. */
function writeLua(
  method: 'PUT' | 'PATCH',
  token: string,
  basePath: string,
  users: { id: string; uid: string }[],
  tag: string,
): string {
  const body =
    method === 'PUT'
      ? `'{"schemas":["${CORE_USER}"],"userName":"' .. u.uid .. '","name":{"givenName":"Person","familyName":"' .. u.uid .. '","formatted":"Person ' .. u.uid .. '"},"displayName":"${tag} ' .. n .. '","emails":[{"value":"' .. u.uid .. '@example.org","type":"work","primary":true}],"active":true}'`
      : `'{"schemas":["${PATCH_OP}"],"Operations":[{"op":"replace","path":"displayName","value":"${tag} ' .. n .. '"}]}'`;
  return `local users = {${users.map((u) => `{id=${luaString(u.id)},uid=${luaString(u.uid)}}`).join(',')}}
local n = 0
wrk.method = "${method}"
wrk.headers["Authorization"] = "Bearer ${token}"
wrk.headers["Content-Type"] = "application/scim+json"
request = function()
  n = n + 1
  local u = users[(n % #users) + 1]
  local body = ${body}
  return wrk.format(nil, "${basePath}/Users/" .. u.id, nil, body)
end
`;
}

export async function runWrites(): Promise<void> {
  const users = argValue('--users', 2000);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-writes-'));
  const ldif = path.join(dir, 'users.ldif');
  await writeLdif(ldif, usersLdif(users));
  const token = randomBytes(18).toString('base64url');
  const config = loadConfig({
    env: { SCIM_BRIDGE_TOKEN: token, SCIM_BRIDGE_SERVER_PORT: '0', SCIM_BRIDGE_LOG_LEVEL: 'silent' },
  });
  const bridge = await startBridge({ config, seedLdif: [ldif] });
  const slapd = bridge.local?.slapd;
  if (!slapd) throw new Error('the benchmark needs the local default slapd');
  const clients: Client[] = [];
  for (let i = 0; i < POOL; i++) {
    const c = new Client({ url: slapd.url });
    await c.bind(slapd.serviceDn, slapd.servicePassword);
    clients.push(c);
  }
  const { searchEntries } = await clients[0]!.search(PEOPLE, {
    scope: 'one',
    filter: '(uid=wb*)',
    attributes: ['uid', 'entryUUID'],
    paged: { pageSize: 500 },
  });
  const bridgeUsers = searchEntries.map((e) => ({ id: String(e.entryUUID), uid: String(e.uid) }));
  const http = httpClient(bridge.baseUrl, token);
  const useWrk = wrkAvailable() && !process.argv.includes('--no-wrk');
  const base = new URL(bridge.baseUrl);
  console.log(
    `scim-ldap-bridge write benchmark: ${users} users per side, slapd ${slapd.url}, bridge ${bridge.baseUrl} (in this process, ldap pool ${config.ldap.poolSize}), raw ldapts pool ${POOL} in this process, node ${process.version}`,
  );
  console.log(
    `HTTP load: ${useWrk ? `wrk (1 thread), ${WRK_SECONDS} s per phase` : 'node:http keep-alive client in this process'}; raw: ldapts modify replace displayName, ${RAW_COUNT[1]} at c=1 and ${RAW_COUNT[16]} at c=16`,
  );

  let rawRound = 0;
  const rawModify = async (concurrency: number): Promise<Figure> => {
    rawRound++;
    const round = rawRound;
    return measure(RAW_COUNT[concurrency] ?? 1000, concurrency, 60, async (i) => {
      await clients[i % clients.length]!.modify(
        `uid=${uidOf('r', i % users)},${PEOPLE}`,
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'displayName', values: [`raw ${round} ${i}`] }),
        }),
      );
    });
  };
  const bridgeWrite = async (method: 'PUT' | 'PATCH', concurrency: number): Promise<Figure> => {
    const tag = `${method} c${concurrency}`;
    if (useWrk) {
      const f = await runWrk(
        base.origin,
        writeLua(method, token, base.pathname, bridgeUsers, tag),
        concurrency,
        WRK_SECONDS,
      );
      return wrkFigure(f, WRK_SECONDS);
    }
    return measure(RAW_COUNT[concurrency] ?? 1000, concurrency, 30, async (i) => {
      const u = bridgeUsers[i % bridgeUsers.length]!;
      const body =
        method === 'PUT'
          ? putBody(u.uid, `${tag} ${i}`)
          : {
              schemas: [PATCH_OP],
              Operations: [{ op: 'replace', path: 'displayName', value: `${tag} ${i}` }],
            };
      const r = await http.request(method, `/Users/${u.id}`, body);
      if (r.status !== 200 && r.status !== 204) throw new Error(`${method} failed: ${r.status} ${r.text}`);
    });
  };

  // A few requests of each kind first: checks the bodies are accepted, warms both sides.
  for (const method of ['PUT', 'PATCH'] as const) {
    const u = bridgeUsers[0]!;
    const body =
      method === 'PUT'
        ? putBody(u.uid, 'warm-up')
        : { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'warm-up' }] };
    const r = await http.request(method, `/Users/${u.id}`, body);
    if (r.status !== 200 && r.status !== 204) throw new Error(`${method} warm-up: ${r.status} ${r.text}`);
  }
  await rawModify(1);

  const ratios: string[] = [];
  for (const concurrency of [1, 16]) {
    const raw = await rawModify(concurrency);
    console.log(`ldap modify (raw)       c=${String(concurrency).padEnd(3)} ${fmt(raw)}`);
    for (const method of ['PUT', 'PATCH'] as const) {
      const f = await bridgeWrite(method, concurrency);
      const ratio = f.perSecond / raw.perSecond;
      ratios.push(`${method} c=${concurrency} ${ratio.toFixed(2)}`);
      console.log(
        `${`${method} /Users/{id}`.padEnd(23)} c=${String(concurrency).padEnd(3)} ${fmt(f)}   bridge/raw throughput ${ratio.toFixed(2)}`,
      );
    }
  }
  console.log(`ratios (bridge/raw ldap modify): ${ratios.join(', ')}`);

  // The last write of each kind is in the directory.
  const check = await http.request('GET', `/Users/${bridgeUsers[0]!.id}?attributes=displayName`);
  if (check.status !== 200) console.log(`anomaly: GET after the writes answered ${check.status}`);
  http.close();
  await Promise.all(clients.map((c) => c.unbind()));
  await bridge.stop();
  rmSync(dir, { recursive: true, force: true });
}
