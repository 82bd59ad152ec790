/**
 * `npm run bench -- --membership [--reps N] [--seconds S]`: groups of 10, 1,000 and 100,000
 * members bulk-loaded with slapadd, then
 *  - GET /Groups/{id} of the 100k group (timed, members counted, bridge RSS sampled meanwhile) and
 *    with `excludedAttributes=members`, next to the raw paged memberOf search the bridge reads through;
 *  - PATCH add-one-member (the Entra form) at each size, at concurrency 1, each adding a fresh user,
 *    next to a raw ldapts modify adding one `member` value to the same group on the same slapd.
 * slapadd runs no overlay, so the LDIF writes `memberOf` on the members itself (the bridge reads
 * membership through those back-links). The bridge runs in this process; the HTTP client is curl
 * (the big GET, so this process's RSS is the bridge's) and node:http (the PATCHes).
 * `--index-memberof` / `--multival` / `--disable-overlay NAME`: opt-in slapd experiments, see tune().
 * Prints figures; asserts nothing. Loopback only; loops are bounded by count and by duration.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { Attribute, Change, Client, EqualityFilter } from 'ldapts';
import { loadConfig } from '../src/config/index.ts';
import { startBridge } from '../src/main.ts';
import { argValue, BENCH_PEOPLE, fmt, httpClient, measure, userLdif, writeLdif } from './measure.ts';

const execFileAsync = promisify(execFile);
v8.setFlagsFromString('--expose-gc');
/** A full GC before a memory reading, so "before" and "after" compare live data, not garbage. */
const gc = runInNewContext('gc') as () => void;
const SIZES = [10, 1_000, 100_000] as const;
const SUFFIX = 'dc=example,dc=com';
const PEOPLE = BENCH_PEOPLE;
const GROUPS = `ou=Groups,${SUFFIX}`;
const PLACEHOLDER = `cn=empty-group-placeholder,${SUFFIX}`;

const memberUid = (i: number) => `m${String(i).padStart(6, '0')}`;
const freshUid = (size: number, side: 'b' | 'r', i: number) => `f${size}${side}${String(i).padStart(5, '0')}`;
const groupCn = (size: number) => `bench-members-${size}`;
const groupDn = (size: number) => `cn=${groupCn(size)},${GROUPS}`;

function personLdif(uid: string, memberOf: string[]): string {
  return userLdif(uid, { cn: `Person ${uid}`, sn: uid, displayName: `Person ${uid}` }, memberOf);
}

function* membershipLdif(reps: number): Generator<string> {
  const largest = SIZES[SIZES.length - 1]!;
  for (let i = 0; i < largest; i++) {
    yield personLdif(
      memberUid(i),
      SIZES.filter((s) => i < s).map((s) => groupDn(s)),
    );
  }
  for (const size of SIZES) {
    for (let i = 0; i < reps; i++) {
      yield personLdif(freshUid(size, 'b', i), []);
      yield personLdif(freshUid(size, 'r', i), []);
    }
  }
  for (const size of SIZES) {
    // Groups written by the bridge carry the mapping's placeholder member; so do these.
    let group = `dn: ${groupDn(size)}
objectClass: top
objectClass: groupOfNames
objectClass: scimResource
cn: ${groupCn(size)}
member: ${PLACEHOLDER}
`;
    for (let i = 0; i < size; i++) group += `member: uid=${memberUid(i)},${PEOPLE}\n`;
    yield `${group}\n`;
  }
}

/**
 * Opt-in experiments on the server under test (both off by default, so the default run measures
 * the shipped slapd.conf.template): `--index-memberof` adds an equality index on memberOf (the
 * attribute the bridge reads members through); `--multival` stores `member` values beyond 100 in
 * back-mdb's separate multival table (OpenLDAP 2.5), so a modify no longer rewrites the whole entry.
 * Both through cn=config on the running slapd; the index is built in the background, so this waits
 * (bounded) until a memberOf search of the smallest group is fast.
 */
async function tune(url: string, rootPassword: string, raw: Client): Promise<void> {
  const changes: Change[] = [];
  if (process.argv.includes('--index-memberof'))
    changes.push(
      new Change({
        operation: 'add',
        modification: new Attribute({ type: 'olcDbIndex', values: ['memberOf eq'] }),
      }),
    );
  if (process.argv.includes('--multival'))
    changes.push(
      new Change({
        operation: 'add',
        modification: new Attribute({ type: 'olcDbMultival', values: ['member 100,10'] }),
      }),
    );
  const disable = process.argv.filter((_, i) => process.argv[i - 1] === '--disable-overlay');
  if (changes.length === 0 && disable.length === 0) return;
  const admin = new Client({ url });
  await admin.bind('cn=admin,cn=config', rootPassword);
  if (changes.length > 0) await admin.modify('olcDatabase={1}mdb,cn=config', changes);
  // olcDisabled (OpenLDAP 2.5+) switches an overlay off without removing it, to see what it costs.
  for (const name of disable) {
    const { searchEntries } = await admin.search('olcDatabase={1}mdb,cn=config', {
      scope: 'one',
      filter: '(objectClass=olcOverlayConfig)',
      attributes: ['olcOverlay'],
    });
    for (const entry of searchEntries.filter((e) => String(e.olcOverlay).endsWith(`}${name}`))) {
      await admin.modify(entry.dn, [
        new Change({
          operation: 'replace',
          modification: new Attribute({ type: 'olcDisabled', values: ['TRUE'] }),
        }),
      ]);
      console.log(`disabled overlay ${entry.dn}`);
    }
  }
  await admin.unbind();
  console.log(
    `tuned slapd through cn=config: ${changes.map((c) => c.modification.values.join()).join('; ')}`,
  );
  if (!process.argv.includes('--index-memberof')) return;
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    const t0 = performance.now();
    await raw.search(PEOPLE, {
      scope: 'one',
      filter: `(memberOf=${groupDn(SIZES[0])})`,
      attributes: ['uid'],
    });
    if (performance.now() - t0 < 20) return;
    await new Promise((r) => setTimeout(r, 1000));
  }
  console.log('  anomaly: the memberOf index was not in use after 120 s');
}

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(0)} MB`;

export async function runMembership(): Promise<void> {
  const reps = argValue('--reps', 200);
  const seconds = argValue('--seconds', 30);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-membership-'));
  const ldif = path.join(dir, 'membership.ldif');
  let t0 = performance.now();
  await writeLdif(ldif, membershipLdif(reps));
  console.log(
    `generated ${SIZES[SIZES.length - 1]} member users, ${SIZES.length * 2 * reps} fresh users and groups of ${SIZES.join(', ')} in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
  );
  const token = randomBytes(18).toString('base64url');
  const config = loadConfig({
    env: { SCIM_BRIDGE_TOKEN: token, SCIM_BRIDGE_SERVER_PORT: '0', SCIM_BRIDGE_LOG_LEVEL: 'silent' },
  });
  t0 = performance.now();
  const bridge = await startBridge({ config, seedLdif: [ldif] });
  console.log(`slapadd + slapd + bridge ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const slapd = bridge.local?.slapd;
  if (!slapd) throw new Error('the benchmark needs the local default slapd');
  const raw = new Client({ url: slapd.url, timeout: 120_000 });
  await raw.bind(slapd.serviceDn, slapd.servicePassword);
  const client = httpClient(bridge.baseUrl, token);
  await tune(slapd.url, slapd.rootPassword, raw);
  console.log(
    `bridge ${bridge.baseUrl} (in this process, ldap pool ${config.ldap.poolSize}, request timeout ${config.server.requestTimeoutMs} ms), slapd ${slapd.url}, node ${process.version}`,
  );

  const uuidOf = async (dn: string): Promise<string> => {
    const { searchEntries } = await raw.search(dn, { scope: 'base', attributes: ['entryUUID'] });
    const uuid = searchEntries[0]?.entryUUID;
    if (typeof uuid !== 'string') throw new Error(`no entryUUID for ${dn}`);
    return uuid;
  };
  const groupIds = new Map<number, string>();
  for (const size of SIZES) groupIds.set(size, await uuidOf(groupDn(size)));
  const freshIds = new Map<string, string>();
  const { searchEntries: fresh } = await raw.search(PEOPLE, {
    scope: 'one',
    filter: '(uid=f*)',
    attributes: ['uid', 'entryUUID'],
    paged: { pageSize: 500 },
  });
  for (const e of fresh) freshIds.set(String(e.uid), String(e.entryUUID));

  // --- GET of the 100k group -------------------------------------------------------------------
  const largest = SIZES[SIZES.length - 1]!;
  const bigId = groupIds.get(largest)!;
  console.log(`\nGET /Groups/{id} of the ${largest}-member group (curl in a child process, 3 runs)`);
  for (let run = 1; run <= 3; run++) {
    const out = path.join(dir, `group-${run}.json`);
    gc();
    const before = process.memoryUsage();
    let rssPeak = before.rss;
    let heapPeak = before.heapUsed;
    const sampler = setInterval(() => {
      const m = process.memoryUsage();
      rssPeak = Math.max(rssPeak, m.rss);
      heapPeak = Math.max(heapPeak, m.heapUsed);
    }, 10);
    const started = performance.now();
    const { stdout } = await execFileAsync('curl', [
      '-sS',
      '-o',
      out,
      '-w',
      '%{http_code} %{size_download} %{time_starttransfer}',
      '--max-time',
      '120',
      '-H',
      `Authorization: Bearer ${token}`,
      `${bridge.baseUrl}/Groups/${bigId}`,
    ]);
    const elapsed = performance.now() - started;
    clearInterval(sampler);
    gc();
    const after = process.memoryUsage();
    const [status, bytes, firstByte] = stdout.trim().split(' ');
    let members = -1;
    let distinct = -1;
    try {
      const body = JSON.parse(readFileSync(out, 'utf8')) as { members?: { value: string }[] };
      members = body.members?.length ?? 0;
      distinct = new Set(body.members?.map((m) => m.value)).size;
    } catch {
      // reported below as -1
    }
    rmSync(out, { force: true });
    console.log(
      `  run ${run}: HTTP ${status}, ${elapsed.toFixed(0)} ms (first byte after ${(Number(firstByte) * 1000).toFixed(0)} ms), ${mb(Number(bytes))} body, members ${members} (distinct ${distinct}, expected ${largest}${members === largest ? ', all present' : ', MISMATCH'}); RSS ${mb(before.rss)} -> peak ${mb(rssPeak)} (+${mb(rssPeak - before.rss)}), heapUsed ${mb(before.heapUsed)} -> peak ${mb(heapPeak)}; after GC: RSS ${mb(after.rss)}, heapUsed ${mb(after.heapUsed)}`,
    );
  }
  const excluded = await measure(20, 1, 60, async () => {
    const r = await client.request('GET', `/Groups/${bigId}?excludedAttributes=members`);
    if (r.status !== 200) throw new Error(`GET excludedAttributes=members: ${r.status} ${r.text}`);
    if ((JSON.parse(r.text) as { members?: unknown }).members !== undefined)
      throw new Error('members came back despite excludedAttributes=members');
  });
  console.log(`  GET ?excludedAttributes=members      ${fmt(excluded)}`);
  const rawBackLinks = await measure(3, 1, 120, async () => {
    const { searchEntries } = await raw.search(PEOPLE, {
      scope: 'one',
      filter: `(&(objectClass=inetOrgPerson)(memberOf=${groupDn(largest)}))`,
      attributes: ['entryUUID', 'displayName'],
      paged: { pageSize: 1000 },
    });
    if (searchEntries.length !== largest) throw new Error(`raw back-link search: ${searchEntries.length}`);
  });
  console.log(`  raw paged memberOf search (same read) ${fmt(rawBackLinks)}`);

  // --- PATCH add one member ----------------------------------------------------------------------
  console.log(
    `\nPATCH /Groups/{id} add one member (Entra form), concurrency 1, up to ${reps} per size or ${seconds} s, each a fresh user; raw = ldapts modify add one member value`,
  );
  const p50s = new Map<number, { bridge: number; raw: number }>();
  for (const size of SIZES) {
    const id = groupIds.get(size)!;
    const bridgeFigure = await measure(reps, 1, seconds, async (i) => {
      const userId = freshIds.get(freshUid(size, 'b', i));
      if (!userId) throw new Error(`fresh user ${freshUid(size, 'b', i)} not found`);
      const r = await client.request('PATCH', `/Groups/${id}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: [{ value: userId }] }],
      });
      if (r.status !== 204 && r.status !== 200) throw new Error(`PATCH ${size}: ${r.status} ${r.text}`);
    });
    const rawFigure = await measure(reps, 1, seconds, async (i) => {
      await raw.modify(
        groupDn(size),
        new Change({
          operation: 'add',
          modification: new Attribute({
            type: 'member',
            values: [`uid=${freshUid(size, 'r', i)},${PEOPLE}`],
          }),
        }),
      );
    });
    p50s.set(size, { bridge: bridgeFigure.p50, raw: rawFigure.p50 });
    console.log(
      `  size ${String(size).padStart(6)}  bridge ${fmt(bridgeFigure)}   raw ${fmt(rawFigure)}   bridge/raw p50 ${(bridgeFigure.p50 / rawFigure.p50).toFixed(2)}`,
    );
    // What a full member read of this group costs slapd: the back-link search on memberOf.
    const backLinks = await measure(Math.min(reps, 5), 1, seconds, async () => {
      await raw.search(PEOPLE, {
        scope: 'one',
        filter: `(&(objectClass=inetOrgPerson)(memberOf=${groupDn(size)}))`,
        attributes: ['entryUUID', 'displayName'],
        paged: { pageSize: 1000 },
      });
    });
    console.log(`               raw memberOf back-link search of the whole group ${fmt(backLinks)}`);
  }
  const small = p50s.get(SIZES[0])!;
  const big = p50s.get(largest)!;
  console.log(
    `issue 5 target, PATCH add-one-member p50 ${largest}/${SIZES[0]} within 1.5x: bridge ${(big.bridge / small.bridge).toFixed(2)}x, raw ldapts ${(big.raw / small.raw).toFixed(2)}x`,
  );
  // The memberof overlay wrote memberOf on each added user: check one per size.
  for (const size of SIZES) {
    const { searchEntries } = await raw.search(PEOPLE, {
      scope: 'one',
      filter: new EqualityFilter({ attribute: 'uid', value: freshUid(size, 'b', 0) }),
      attributes: ['memberOf'],
    });
    const memberOf = searchEntries[0]?.memberOf;
    const ok = Array.isArray(memberOf) ? memberOf.length > 0 : typeof memberOf === 'string';
    if (!ok) console.log(`  anomaly: ${freshUid(size, 'b', 0)} has no memberOf after the PATCH`);
  }
  client.close();
  await raw.unbind();
  await bridge.stop();
  rmSync(dir, { recursive: true, force: true });
}
