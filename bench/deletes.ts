/**
 * `npm run bench -- --deletes`: what a DELETE /Users/{id} costs, and what referential integrity
 * costs slapd (issue 17). Users are members of groups of 100; deleting one must take its DN out of
 * its group's `member`. The local default (config/ldap/slapd.conf.template) has two overlays that
 * can do it: memberof with memberof-refint (from the deleted entry's own memberOf values), which
 * the local default uses, and refint on `member` (a search for (member=<dn>) over the database, in
 * a background task), which it used until issue 17. Each configuration runs on a fresh bridge and
 * slapd; the changes from the default are made at run time through cn=config. Prints deletes/s, latency, bridge and slapd CPU per delete (slapd's
 * measured until its background work has settled), and how many deleted users are still listed
 * as a member somewhere. Asserts nothing. Loopback only; every phase is bounded by count and time.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Attribute, Change, Client } from 'ldapts';
import { type BridgeProcess, startBridgeProcess } from './bridge-process.ts';
import {
  argValue,
  BENCH_PEOPLE,
  fmt,
  httpClient,
  measure,
  processCpuMicros,
  userLdif,
  writeLdif,
} from './measure.ts';

const SUFFIX = 'dc=example,dc=com';
const GROUPS = `ou=Groups,${SUFFIX}`;
const GROUP_SIZE = 100;
const SECONDS = 6;
const PHASES = [
  { concurrency: 1, count: 400 },
  { concurrency: 16, count: 2_000 },
] as const;
/** Deleted users whose DN is looked for in `member` afterwards. */
const INTEGRITY_SAMPLE = 50;
const MDB = 'olcDatabase={1}mdb,cn=config';

interface Configuration {
  name: string;
  /** Changes to the local default, through cn=config, before the load. */
  apply(config: Client): Promise<void>;
}

/** The refint overlay on member where the local default had it until issue 17: right after memberof. */
const addRefint = (config: Client) =>
  config.add(`olcOverlay={1}refint,${MDB}`, {
    objectClass: ['olcOverlayConfig', 'olcRefintConfig'],
    olcOverlay: '{1}refint',
    olcRefintAttribute: 'member',
  });
const dropMemberIndex = (config: Client) =>
  config.modify(
    MDB,
    new Change({
      operation: 'delete',
      modification: new Attribute({ type: 'olcDbIndex', values: ['member eq'] }),
    }),
  );

const CONFIGURATIONS: Configuration[] = [
  { name: 'local default: memberof-refint, member eq index', apply: async () => undefined },
  { name: 'memberof-refint + refint overlay on member (the default before issue 17)', apply: addRefint },
  {
    name: 'memberof-refint + refint, without the member eq index',
    apply: async (config) => {
      await addRefint(config);
      await dropMemberIndex(config);
    },
  },
  { name: 'memberof-refint, without the member eq index', apply: dropMemberIndex },
];

const userUid = (i: number) => `del${String(i).padStart(6, '0')}`;
const userDn = (i: number) => `uid=${userUid(i)},${BENCH_PEOPLE}`;
const groupDn = (g: number) => `cn=delete-bench-${g},${GROUPS}`;

function* deleteLdif(users: number): Generator<string> {
  for (let i = 0; i < users; i++) {
    yield userLdif(userUid(i), { cn: `Del ${i}`, sn: `User${i}`, displayName: `Del User ${i}` }, [
      groupDn(Math.floor(i / GROUP_SIZE)),
    ]);
  }
  for (let g = 0; g * GROUP_SIZE < users; g++) {
    let group = `dn: ${groupDn(g)}\nobjectClass: top\nobjectClass: groupOfNames\nobjectClass: scimResource\ncn: delete-bench-${g}\n`;
    for (let i = g * GROUP_SIZE; i < Math.min(users, (g + 1) * GROUP_SIZE); i++)
      group += `member: ${userDn(i)}\n`;
    yield `${group}\n`;
  }
}

/** slapd's CPU once it has settled: refint works in a background task after the delete returns. */
async function settledCpu(pid: number): Promise<number> {
  let last = processCpuMicros(pid);
  for (let i = 0; i < 25; i++) {
    await new Promise((resolve) => setTimeout(resolve, 200));
    const now = processCpuMicros(pid);
    if (now === last) return now;
    last = now;
  }
  return last;
}

/** The users' SCIM ids by uid, read through the bridge (pages of 1,000). */
async function idsByIndex(bridge: BridgeProcess, token: string, users: number): Promise<string[]> {
  const client = httpClient(bridge.baseUrl, token);
  const ids: string[] = new Array(users);
  try {
    for (let start = 1; start <= users; start += 1000) {
      const filter = encodeURIComponent('userName sw "del"');
      const { status, text } = await client.request(
        'GET',
        `/Users?filter=${filter}&attributes=userName&count=1000&startIndex=${start}&sortBy=userName`,
      );
      if (status !== 200) throw new Error(`listing users failed: ${status} ${text}`);
      for (const r of (JSON.parse(text) as { Resources: { id: string; userName: string }[] }).Resources) {
        ids[Number(r.userName.slice(3))] = r.id;
      }
    }
  } finally {
    client.close();
  }
  return ids;
}

async function runConfiguration(configuration: Configuration, ldif: string, users: number): Promise<void> {
  const token = randomBytes(18).toString('base64url');
  const bridge = await startBridgeProcess(token, [ldif]);
  const config = new Client({ url: bridge.ldapUrl });
  const reader = new Client({ url: bridge.ldapUrl });
  const client = httpClient(bridge.baseUrl, token);
  try {
    await config.bind('cn=admin,cn=config', bridge.rootPassword);
    await configuration.apply(config);
    await reader.bind(bridge.serviceDn, bridge.servicePassword);
    const ids = await idsByIndex(bridge, token, users);
    console.log(`\n${configuration.name}`);
    let next = 0;
    const deleted: number[] = [];
    for (const { concurrency, count } of PHASES) {
      const slapdBefore = processCpuMicros(bridge.slapdPid);
      const bridgeBefore = bridge.cpuMicros();
      const figure = await measure(count, concurrency, SECONDS, async () => {
        const i = next++;
        const { status, text } = await client.request('DELETE', `/Users/${ids[i]}`);
        if (status !== 204) throw new Error(`DELETE answered ${status}: ${text}`);
        deleted.push(i);
      });
      const bridgeCpu = (bridge.cpuMicros() - bridgeBefore) / figure.count;
      const slapdCpu = ((await settledCpu(bridge.slapdPid)) - slapdBefore) / figure.count;
      console.log(
        `  DELETE /Users/{id} c=${String(concurrency).padEnd(2)} ${fmt(figure)}  bridge CPU ${bridgeCpu.toFixed(0)} µs/delete, slapd CPU ${(slapdCpu / 1000).toFixed(2)} ms/delete`,
      );
    }
    console.log(
      `  dangling member values: ${await dangling(reader, deleted)} of ${INTEGRITY_SAMPLE} deleted users sampled`,
    );
  } finally {
    client.close();
    await Promise.allSettled([config.unbind(), reader.unbind()]);
    await bridge.stop();
  }
}

/** How many of a sample of deleted users some group still lists in `member`. */
async function dangling(reader: Client, deleted: number[]): Promise<number> {
  const step = Math.max(1, Math.floor(deleted.length / INTEGRITY_SAMPLE));
  let found = 0;
  for (let k = 0; k < INTEGRITY_SAMPLE && k * step < deleted.length; k++) {
    const { searchEntries } = await reader.search(GROUPS, {
      filter: `(member=${userDn(deleted[k * step]!)})`,
      attributes: ['1.1'],
    });
    if (searchEntries.length > 0) found++;
  }
  return found;
}

export async function runDeletes(): Promise<void> {
  const users = argValue('--delete-users', 10_000);
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-deletes-'));
  try {
    const ldif = path.join(dir, 'users.ldif');
    await writeLdif(ldif, deleteLdif(users));
    console.log(
      `DELETE and referential integrity: ${users} users in groups of ${GROUP_SIZE}, a fresh bridge and slapd per configuration, ${SECONDS} s per phase at most`,
    );
    for (const configuration of CONFIGURATIONS) await runConfiguration(configuration, ldif, users);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
