/**
 * `npm run bench -- --scale [--users N]`: a generated directory of N users (default 100,000),
 * bulk-loaded with slapadd, then list queries through the bridge next to raw ldapts searches on
 * the same slapd in the same run: `userName eq` throughput and latency, the first and a deep page
 * (VLV), a `co` filter on displayName, the cost of totalResults, and the bridge's RSS throughout.
 * Prints figures; asserts nothing. Loopback only; every loop is bounded by a count.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AndFilter, Client, EqualityFilter, SubstringFilter } from 'ldapts';
import { startBridgeProcess } from './bridge-process.ts';
import { argValue, type Figure, fmt, measure, userLdif, writeLdif, wrkFigure } from './measure.ts';
import { runWrk, wrkAvailable } from './wrk.ts';

/**
 * Lua for wrk: GET /Users?filter=userName eq "userNNNNNN" over pseudo-random existing users. The
 * sequence is offset by half the directory from the raw phase's, so neither side reads entries
 * the other has just brought into slapd's caches.
 */
function userNameEqLua(token: string, basePath: string, users: number): string {
  return `local n = 0
wrk.headers["Authorization"] = "Bearer ${token}"
request = function()
  n = n + 1
  local uid = string.format("user%06d", (n * 7919 + ${Math.floor(users / 2)}) % ${users})
  return wrk.format("GET", "${basePath}/Users?filter=userName%20eq%20%22" .. uid .. "%22")
end
`;
}

/** Rounds of the `userName eq` throughput phase, bridge and raw in turn. */
const EQ_ROUNDS = 5;
/** Each bridge round: seconds of wrk load. */
const EQ_ROUND_SECONDS = 3;
/** Each raw round: a few seconds' worth of searches, like the bridge's round. */
const RAW_EQ_SEARCHES_PER_ROUND = 30_000;
/** Cursor pages read after the first in the cursor walk. */
const CURSOR_PAGES = 50;

function* usersLdif(users: number): Generator<string> {
  for (let i = 0; i < users; i++) {
    const uid = `user${String(i).padStart(6, '0')}`;
    yield userLdif(uid, {
      cn: `Person ${i}`,
      sn: `Number${i}`,
      displayName: `Person ${i} of Team ${i % 100}`,
    });
  }
}

export async function runScale(): Promise<void> {
  const users = argValue('--users', 100_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-scale-'));
  const ldif = path.join(dir, 'users.ldif');
  let t0 = performance.now();
  await writeLdif(ldif, usersLdif(users));
  console.log(`generated ${users} users in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const token = randomBytes(18).toString('base64url');
  t0 = performance.now();
  // The bridge runs in its own process: its RSS is read from /proc, without this load generator.
  const bridge = await startBridgeProcess(token, [ldif]);
  console.log(`slapadd + slapd + bridge ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const raw = new Client({ url: bridge.ldapUrl });
  await raw.bind(bridge.serviceDn, bridge.servicePassword);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  const base = new URL(bridge.baseUrl);
  let peak = bridge.memory();
  let peakPhase = 'start';
  let phase = 'start';
  const sampler = setInterval(() => {
    const now = bridge.memory();
    if (now.rss > peak.rss) {
      peak = now;
      peakPhase = phase;
    }
  }, 50);
  const get = (query: string) =>
    new Promise<any>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          path: `${base.pathname}/Users?${query}`,
          headers: { Authorization: `Bearer ${token}` },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            if (res.statusCode !== 200) reject(new Error(`${res.statusCode} ${JSON.stringify(body)}`));
            else resolve(body);
          });
        },
      );
      req.on('error', reject);
      req.end();
    });
  /**
   * A write through the bridge (a PATCH of one user's displayName, alternating between two
   * values): it ends every sorted list the bridge keeps for reuse, so the next page sorts afresh.
   */
  let writes = 0;
  let writtenUserId: string | undefined;
  const writeThroughBridge = async () => {
    writtenUserId ??= String(
      (await get(`filter=${encodeURIComponent('userName eq "user000001"')}`)).Resources[0].id,
    );
    const value = writes++ % 2 === 0 ? 'Person 1 of Team 1 (bench)' : 'Person 1 of Team 1';
    await new Promise<void>((resolve, reject) => {
      const req = http.request(
        {
          agent,
          method: 'PATCH',
          host: base.hostname,
          port: base.port,
          path: `${base.pathname}/Users/${writtenUserId}`,
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/scim+json' },
        },
        (res) => {
          res.resume();
          res.on('end', () =>
            res.statusCode === 200 || res.statusCode === 204
              ? resolve()
              : reject(new Error(`PATCH: ${res.statusCode}`)),
          );
        },
      );
      req.on('error', reject);
      req.end(
        JSON.stringify({
          schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
          Operations: [{ op: 'replace', path: 'displayName', value }],
        }),
      );
    });
  };
  const uidOf = (i: number) => `user${String((i * 7919) % users).padStart(6, '0')}`;

  const useWrk = wrkAvailable() && !process.argv.includes('--no-wrk');
  console.log(
    `\n${users} users; bridge vs raw ldapts on the same slapd (concurrency 16 unless noted; HTTP load at c=16 from ${useWrk ? 'wrk' : 'this process'})`,
  );
  // The bridge runs in its own process, its RSS sampled; the raw searches run from this process,
  // so that their client's memory is not counted as the bridge's.
  // HTTP load from wrk when installed (see bench/wrk.ts); otherwise from this process.
  phase = 'userName eq';
  // The same question the bridge asks: its filter is the mapping's scope filter AND the uid, for
  // the very attributes the bridge asks slapd for on a User read.
  const readAttributes = bridge.userReadAttributes;
  const rawEqSearch = async (i: number) => {
    const { searchEntries } = await raw.search('ou=People,dc=example,dc=com', {
      scope: 'one',
      filter: new AndFilter({
        filters: [
          new EqualityFilter({ attribute: 'objectClass', value: 'inetOrgPerson' }),
          new EqualityFilter({ attribute: 'uid', value: uidOf(i) }),
        ],
      }),
      attributes: readAttributes,
    });
    if (searchEntries.length !== 1) throw new Error('raw uid search found no user');
  };
  // Both sides warm up first (JIT, caches), unmeasured: the bridge process has just started.
  if (useWrk) await runWrk(base.origin, userNameEqLua(token, base.pathname, users), 16, 2);
  await measure(RAW_EQ_SEARCHES_PER_ROUND / 5, 16, 120, (i) => rawEqSearch(i + Math.floor(users / 3)));
  // Bridge and raw take turns, round by round (the first side alternates), so that the machine's
  // drift (a shared VM: ±30 % between minutes) meets both; each round gives one ratio.
  const bridgeRound = async (): Promise<{ bridge: Figure; cpuPerRequest: number }> => {
    const cpuBefore = bridge.cpuMicros();
    const figure = useWrk
      ? wrkFigure(
          await runWrk(base.origin, userNameEqLua(token, base.pathname, users), 16, EQ_ROUND_SECONDS),
          EQ_ROUND_SECONDS,
        )
      : await measure(4000, 16, 120, async (i) => {
          const body = await get(`filter=${encodeURIComponent(`userName eq "${uidOf(i)}"`)}`);
          if (body.totalResults !== 1) throw new Error('userName eq found no user');
        });
    return { bridge: figure, cpuPerRequest: (bridge.cpuMicros() - cpuBefore) / figure.count };
  };
  const rawRound = (round: number) =>
    measure(RAW_EQ_SEARCHES_PER_ROUND, 16, 120, (i) => rawEqSearch(i + round * RAW_EQ_SEARCHES_PER_ROUND));
  const eqRounds: { bridge: Figure; raw: Figure; cpuPerRequest: number }[] = [];
  for (let round = 0; round < EQ_ROUNDS; round++) {
    if (round % 2 === 0) {
      const measured = await bridgeRound();
      eqRounds.push({ ...measured, raw: await rawRound(round) });
    } else {
      const raw = await rawRound(round);
      eqRounds.push({ ...(await bridgeRound()), raw });
    }
  }
  phase = 'pages';
  const deepIndex = Math.max(1, users - 9_999);
  const firstPage = async () => {
    await get('startIndex=1&count=100');
  };
  const deepPage = async () => {
    const body = await get(`startIndex=${deepIndex}&count=100`);
    if (body.Resources.length !== 100) throw new Error(`deep page had ${body.Resources.length} users`);
  };
  // Fresh: a write through the bridge (untimed) before each page, so every page sorts afresh.
  const first = await measure(20, 1, 120, firstPage, writeThroughBridge);
  const deep = await measure(20, 1, 120, deepPage, writeThroughBridge);
  // Kept: the same pages again, read from the sorted list the directory kept (VLV contextID).
  const firstKept = await measure(20, 1, 120, firstPage);
  const deepKept = await measure(20, 1, 120, deepPage);
  // An import as IdPs run it: startIndex=1, 101, 201, ... one page after the other.
  await writeThroughBridge();
  const offsetWalkStarted = performance.now();
  const walkPages = Math.max(1, Math.min(CURSOR_PAGES, Math.floor(users / 100)));
  const offsetWalk = await measure(walkPages, 1, 120, async (i) => {
    const body = await get(`startIndex=${i * 100 + 1}&count=100`);
    if (body.Resources.length !== Math.min(100, users - i * 100))
      throw new Error(`offset walk page had ${body.Resources.length} users`);
  });
  const offsetWalkMs = performance.now() - offsetWalkStarted;
  phase = 'cursor walk';
  // RFC 9865 cursors: the first page counts the matches and opens a paged search; the next pages
  // are that search's next pages (RFC 2696 cookie), with no sort and no skip to an offset.
  // Cold, like the first page of an import: no sorted list kept from the pages above.
  await writeThroughBridge();
  const started = performance.now();
  const firstCursorPage = await get('count=100&cursor=');
  const cursorFirstMs = performance.now() - started;
  let cursor = String(firstCursorPage.nextCursor);
  // Full pages only: the walk stops one page short of the end of a small directory.
  const cursorPages = Math.max(0, Math.min(CURSOR_PAGES, Math.floor(users / 100) - 2));
  const cursorNext = await measure(cursorPages, 1, 120, async () => {
    const body = await get(`count=100&cursor=${encodeURIComponent(cursor)}`);
    if (body.Resources.length !== 100) throw new Error(`cursor page had ${body.Resources.length} users`);
    cursor = String(body.nextCursor);
  });
  phase = 'displayName co';
  const coPage = async () => {
    await get(`filter=${encodeURIComponent('displayName co "Team 42"')}&count=100`);
  };
  const co = await measure(20, 1, 120, coPage, writeThroughBridge);
  const coKept = await measure(20, 1, 120, coPage);
  phase = 'totalResults';
  const countOnlyPage = async () => {
    const body = await get('count=0');
    if (body.totalResults !== users) throw new Error(`totalResults ${body.totalResults}`);
  };
  const countOnly = await measure(20, 1, 120, countOnlyPage, writeThroughBridge);
  const countOnlyKept = await measure(20, 1, 120, countOnlyPage);
  clearInterval(sampler);

  // For reference: a bare (uid=...) search, which no SCIM query could be answered with (it would
  // not tell users from other entries with a uid).
  const rawBareEq = await measure(RAW_EQ_SEARCHES_PER_ROUND, 16, 120, async (i) => {
    const { searchEntries } = await raw.search('ou=People,dc=example,dc=com', {
      scope: 'one',
      filter: new EqualityFilter({ attribute: 'uid', value: uidOf(i) }),
      attributes: readAttributes,
    });
    if (searchEntries.length !== 1) throw new Error('raw uid search found no user');
  });
  const rawCo = await measure(20, 1, 120, async () => {
    await raw.search('ou=People,dc=example,dc=com', {
      scope: 'one',
      filter: new SubstringFilter({ attribute: 'displayName', any: ['Team 42'] }),
      attributes: ['uid'],
      paged: { pageSize: 500 },
    });
  });

  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
  };
  const ratios = eqRounds.map((r) => r.bridge.perSecond / r.raw.perSecond);
  for (const [i, r] of eqRounds.entries()) {
    console.log(
      `userName eq, round ${i + 1}   bridge ${fmt(r.bridge)}   raw (&(objectClass=inetOrgPerson)(uid=…)) ${fmt(r.raw)}   ratio ${(ratios[i] ?? 0).toFixed(2)}  (bridge CPU ${r.cpuPerRequest.toFixed(0)} µs/request)`,
    );
  }
  console.log(
    `userName eq list        bridge/raw ratio: median ${median(ratios).toFixed(2)} over ${eqRounds.length} rounds (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}); bridge median ${median(eqRounds.map((r) => r.bridge.perSecond)).toFixed(0)}/s, raw median ${median(eqRounds.map((r) => r.raw.perSecond)).toFixed(0)}/s`,
  );
  const lastRaw = eqRounds.at(-1)?.raw.perSecond ?? Number.NaN;
  console.log(
    `                        raw bare (uid=…) ${fmt(rawBareEq)}   (last round's raw: ${lastRaw.toFixed(0)}/s)`,
  );
  console.log(
    `page of 100 (c=1)       fresh sort (after a write): startIndex=1 ${fmt(first)}   startIndex=${deepIndex} ${fmt(deep)}   deep/first p50 ${(deep.p50 / first.p50).toFixed(2)}`,
  );
  console.log(
    `                        kept sorted list:           startIndex=1 ${fmt(firstKept)}   startIndex=${deepIndex} ${fmt(deepKept)}   deep/first p50 ${(deepKept.p50 / firstKept.p50).toFixed(2)}`,
  );
  console.log(
    `offset walk (c=1)       startIndex=1, 101, ... ${walkPages} pages of 100 in ${offsetWalkMs.toFixed(0)} ms: ${fmt(offsetWalk)}`,
  );
  console.log(
    `cursor walk (c=1)       first page (counts ${users}) ${cursorFirstMs.toFixed(0)} ms   next ${cursorPages} pages of 100 ${fmt(cursorNext)}`,
  );
  console.log(
    `displayName co (c=1)    bridge, fresh sort (after a write) ${fmt(co)}   kept sorted list ${fmt(coKept)}   raw paged substring search (all matches) ${fmt(rawCo)}`,
  );
  console.log(
    `totalResults only (c=1) fresh sort (after a write) ${fmt(countOnly)}   kept sorted list ${fmt(countOnlyKept)}`,
  );
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(0)} MB`;
  console.log(
    `bridge process RSS: peak ${mb(bridge.memory().peakRss)} (kernel high-water mark, whole run); sampled peak ${mb(peak.rss)} during ${peakPhase}`,
  );
  agent.destroy();
  await raw.unbind();
  await bridge.stop();
  rmSync(dir, { recursive: true, force: true });
}
