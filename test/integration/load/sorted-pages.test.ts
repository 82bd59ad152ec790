/**
 * Back-pressure under concurrent sorted pages (issue 17; issue 15 "Occasional 503s under ordinary
 * load"): slapd's sssvlv allows few sorts per connection (sssvlv-maxperconn, lowered to 2 here
 * through cn=config) and keeps every VLV sort until the connection closes. Many concurrent
 * sorted pages must all be answered 200: sorts beyond the per-connection limit wait for room,
 * a `busy` answer is retried for that request alone, and no connection is closed under the
 * requests still in flight on it.
 */
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, type ScimResponse, startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const DIRECTORY_SORTS_PER_CONNECTION = 2;
const USERS = 60;
const PEOPLE = 'ou=People,dc=example,dc=com';

/** Lowers sssvlv-maxperconn on the running slapd (cn=config; slapo-sssvlv(5)). */
async function limitSortsPerConnection(t: TestBridge, limit: number): Promise<void> {
  const slapd = t.bridge.local?.slapd;
  if (!slapd) throw new Error('the test bridge should run its own slapd');
  const admin = new Client({ url: slapd.url });
  try {
    await admin.bind('cn=admin,cn=config', slapd.rootPassword);
    const { searchEntries } = await admin.search('cn=config', {
      scope: 'sub',
      filter: '(objectClass=olcSssVlvConfig)',
      attributes: ['dn'],
    });
    const overlay = searchEntries[0]?.dn;
    if (!overlay) throw new Error('the test slapd has no sssvlv overlay');
    await admin.modify(
      overlay,
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'olcSssVlvMaxPerConn', values: [String(limit)] }),
      }),
    );
  } finally {
    await admin.unbind();
  }
}

async function addUsers(t: TestBridge, count: number): Promise<void> {
  const ldap = await rootClientOf(t);
  try {
    for (let n = 0; n < count; n++) {
      const uid = `load${String(n).padStart(3, '0')}`;
      await ldap.add(`uid=${uid},${PEOPLE}`, {
        objectClass: ['inetOrgPerson'],
        uid,
        cn: `Load ${n}`,
        sn: `Load${n}`,
      });
    }
  } finally {
    await ldap.unbind();
  }
}

/** `concurrency` sorted pages at once, at spread-out offsets, `rounds` times over. */
async function sortedPages(t: TestBridge, concurrency: number, rounds: number): Promise<ScimResponse[]> {
  const answers: ScimResponse[] = [];
  for (let round = 0; round < rounds; round++) {
    const batch = Array.from({ length: concurrency }, (_, n) => {
      const startIndex = ((n * 7 + round * 3) % USERS) + 1;
      return t.request('GET', `/Users?sortBy=userName&startIndex=${startIndex}&count=3`);
    });
    answers.push(...(await Promise.all(batch)));
  }
  return answers;
}

function failures(answers: ScimResponse[]): string[] {
  return answers.filter((r) => r.status !== 200).map((r) => `${r.status} ${r.text.slice(0, 200)}`);
}

describe.each([
  ['the bridge knows the directory limit', { SCIM_BRIDGE_LDAP_SORTED_PAGES_PER_CONNECTION: '2' }],
  // The bridge allows more than the directory: the directory's `busy` answers are retried.
  ['the bridge allows more than the directory', { SCIM_BRIDGE_LDAP_SORTED_PAGES_PER_CONNECTION: '8' }],
])('concurrent sorted pages with sssvlv-maxperconn 2 (%s)', (_, env) => {
  let t: TestBridge;

  beforeAll(async () => {
    t = await startTestBridge({
      env: { ...env, SCIM_BRIDGE_LDAP_POOL_SIZE: '2', SCIM_BRIDGE_LDAP_SORTED_LIST_REUSE_MS: '0' },
    });
    await addUsers(t, USERS);
    await limitSortsPerConnection(t, DIRECTORY_SORTS_PER_CONNECTION);
  });
  afterAll(async () => {
    await t?.stop();
  });

  it.each([16, 64])('%i concurrent sorted pages: every answer is 200 with its page', async (concurrency) => {
    const answers = await sortedPages(t, concurrency, 3);
    expect(failures(answers)).toEqual([]);
    for (const r of answers) expect(r.body.Resources).toHaveLength(3);
    const first = await t.request('GET', '/Users?sortBy=userName&startIndex=1&count=2');
    const names = (first.body.Resources as Array<{ userName: string }>).map((u) => u.userName);
    expect(names).toEqual([...names].sort());
  });
});
