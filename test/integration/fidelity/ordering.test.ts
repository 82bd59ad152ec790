/**
 * Issue 14, class "ordering filters and sorts that silently answer nothing", and `/Me`.
 * `gt ge lt le` (RFC 7644 §3.4.2.2) must answer the right set or 400 invalidFilter naming the
 * attribute; never 200 with no results when matches exist. `sortBy` (§3.4.2.3) must answer the
 * right order or 400 invalidValue naming the attribute. No LDAP result text reaches a client.
 * The expected sets and orders are computed here, from the data this file creates (an empty
 * directory otherwise), never from the bridge. `/Me` is not supported: 501 (RFC 7644 §3.11).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { create, eachRow, expectScimError, filtered, GROUP, type Row, USER } from './helpers.ts';

interface Person {
  userName: string;
  familyName: string;
  displayName: string;
  /** Created before the pivot time (first batch) or after it. */
  early: boolean;
  id?: string;
}

/** Three orders that disagree: by userName, by familyName (reversed), by displayName (shuffled). */
const PEOPLE: Person[] = [
  { userName: 'anna', familyName: 'Zeller', displayName: 'Kurt A', early: true },
  { userName: 'Boris', familyName: 'yates', displayName: 'Bert B', early: true },
  { userName: 'chen', familyName: 'Xu', displayName: 'Mona C', early: true },
  { userName: 'dmitri', familyName: 'Weber', displayName: 'Greta D', early: false },
  { userName: 'eve', familyName: 'vance', displayName: 'Lena E', early: false },
  { userName: 'frank', familyName: 'Ueda', displayName: 'Ivan F', early: false },
];
const GROUP_NAMES = ['Ops', 'audit', 'Engineering', 'finance'];

let t: TestBridge;
/** An instant between the two batches, on a second boundary (modifyTimestamp has 1 s resolution). */
let pivot: string;
const groupIds = new Map<string, string>();

async function createPerson(p: Person): Promise<void> {
  p.id = await create(t, '/Users', {
    schemas: [USER],
    userName: p.userName,
    name: { familyName: p.familyName, formatted: p.displayName },
    displayName: p.displayName,
  });
}

async function sleepUntil(epochMs: number): Promise<void> {
  while (Date.now() < epochMs) await new Promise((resolve) => setTimeout(resolve, epochMs - Date.now()));
}

beforeAll(async () => {
  t = await startTestBridge({ seed: 'empty' });
  for (const p of PEOPLE.filter((x) => x.early)) await createPerson(p);
  const boundary = Math.ceil((Date.now() + 1) / 1000) * 1000;
  pivot = new Date(boundary).toISOString();
  await sleepUntil(boundary + 1000);
  for (const p of PEOPLE.filter((x) => !x.early)) await createPerson(p);
  for (const name of GROUP_NAMES)
    groupIds.set(name, await create(t, '/Groups', { schemas: [GROUP], displayName: name }));
});

afterAll(async () => {
  await t?.stop();
});

type Operator = 'gt' | 'ge' | 'lt' | 'le';

/** caseIgnoreOrderingMatch, as the mapping declares for the string attributes here. */
function compare(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  return x < y ? -1 : x > y ? 1 : 0;
}

function holds(operator: Operator, order: number): boolean {
  return { gt: order > 0, ge: order >= 0, lt: order < 0, le: order <= 0 }[operator];
}

interface OrderingFilter extends Row {
  endpoint: '/Users' | '/Groups';
  attribute: string;
  operator: Operator;
  value: () => string;
  /** The ids that satisfy the filter, computed from the test's own data. */
  expected: () => string[];
}

function userRows(
  attribute: string,
  pick: (p: Person) => string,
  values: Record<Operator, string>,
  fails: boolean,
) {
  return (Object.entries(values) as [Operator, string][]).map(
    ([operator, value]): OrderingFilter => ({
      label: `${attribute} ${operator} "${value}"`,
      endpoint: '/Users',
      attribute,
      operator,
      value: () => value,
      expected: () => PEOPLE.filter((p) => holds(operator, compare(pick(p), value))).map((p) => p.id!),
      fails,
    }),
  );
}

const filters: OrderingFilter[] = [
  // issue 14: ordering filters — was 200 with totalResults 0 (uid, sn, displayName have no ORDERING
  // rule in OpenLDAP); now through the mapping's declared orderingRule (extensible match)
  ...userRows('userName', (p) => p.userName, { gt: 'chen', ge: 'Chen', lt: 'C', le: 'boris' }, false),
  ...userRows('name.familyName', (p) => p.familyName, { gt: 'w', ge: 'Weber', lt: 'X', le: 'xu' }, false),
  ...userRows('displayName', (p) => p.displayName, { gt: 'J', ge: 'kurt a', lt: 'Greta D', le: 'l' }, false),
  ...(['gt', 'ge', 'lt', 'le'] as Operator[]).map(
    (operator): OrderingFilter => ({
      label: `meta.lastModified ${operator} the pivot (modifyTimestamp has an ORDERING rule)`,
      endpoint: '/Users',
      attribute: 'meta.lastModified',
      operator,
      value: () => pivot,
      expected: () =>
        PEOPLE.filter((p) => (operator === 'gt' || operator === 'ge' ? !p.early : p.early)).map((p) => p.id!),
    }),
  ),
  ...(['gt', 'le'] as Operator[]).map(
    (operator): OrderingFilter => ({
      label: `Groups displayName ${operator} "E" (cn, declared orderingRule caseIgnoreOrderingMatch)`,
      endpoint: '/Groups',
      attribute: 'displayName',
      operator,
      value: () => 'E',
      expected: () =>
        GROUP_NAMES.filter((n) => holds(operator, compare(n, 'E'))).map((n) => groupIds.get(n)!),
    }),
  ),
];

describe('ordering filters answer the right set or 400 invalidFilter naming the attribute', () => {
  eachRow(filters, async ({ endpoint, attribute, operator, value, expected }) => {
    const want = expected().sort();
    expect(want.length, 'the case must have matches').toBeGreaterThan(0);
    const r = await t.request(
      'GET',
      filtered(endpoint, `${attribute} ${operator} "${value()}"`, '&count=100'),
    );
    if (r.status === 400) {
      expectScimError(r, 400, ['invalidFilter'], attribute);
      return;
    }
    expect(r.status, r.text).toBe(200);
    expect(r.body.Resources.map((x: { id: string }) => x.id).sort()).toEqual(want);
    expect(r.body.totalResults).toBe(want.length);
  });
});

interface Sort extends Row {
  endpoint: '/Users' | '/Groups';
  sortBy: string;
  descending: boolean;
  /** The ids in the expected order, computed from the test's own data. */
  expected: () => string[];
}

function userSorts(sortBy: string, pick: (p: Person) => string, fails: boolean): Sort[] {
  return [false, true].map((descending) => ({
    label: `sortBy=${sortBy} ${descending ? 'descending' : 'ascending'}`,
    endpoint: '/Users',
    sortBy,
    descending,
    expected: () => {
      const ids = [...PEOPLE].sort((a, b) => compare(pick(a), pick(b))).map((p) => p.id!);
      return descending ? ids.reverse() : ids;
    },
    fails,
  }));
}

const sorts: Sort[] = [
  ...userSorts('userName', (p) => p.userName, false),
  // issue 14: sortBy — was 403 "…LDAP result 18 (serverSort control: No ordering rule)"; now sorted
  // by the mapping's declared orderingRule
  ...userSorts('name.familyName', (p) => p.familyName, false),
  ...userSorts('displayName', (p) => p.displayName, false),
  ...[false, true].map(
    (descending): Sort => ({
      label: `Groups sortBy=displayName ${descending ? 'descending' : 'ascending'}`,
      endpoint: '/Groups',
      sortBy: 'displayName',
      descending,
      expected: () => {
        const ids = [...GROUP_NAMES].sort(compare).map((n) => groupIds.get(n)!);
        return descending ? ids.reverse() : ids;
      },
    }),
  ),
];

describe('sortBy answers the right order or 400 invalidValue naming the attribute', () => {
  eachRow(sorts, async ({ endpoint, sortBy, descending, expected }) => {
    const order = descending ? 'descending' : 'ascending';
    const r = await t.request('GET', `${endpoint}?sortBy=${sortBy}&sortOrder=${order}&count=100`);
    if (r.status === 400) {
      expectScimError(r, 400, ['invalidValue'], sortBy);
      return;
    }
    expect(r.status, r.text).toBe(200);
    expect(r.body.Resources.map((x: { id: string }) => x.id)).toEqual(expected());
  });
});

/** Attributes the directory cannot order (the mapping's `orderingRule: none`): 400 naming them. */
describe('what the directory cannot order is refused, naming the attribute', () => {
  eachRow(
    [
      {
        label: 'emails gt "m" (mail is an IA5String)',
        query: filtered('/Users', 'emails gt "m"'),
        scimType: 'invalidFilter',
        names: 'emails',
      },
      {
        label: 'emails[type eq "work"].value le "m"',
        query: filtered('/Users', 'emails[type eq "work"].value le "m"'),
        scimType: 'invalidFilter',
        names: 'emails',
      },
      {
        label: 'addresses.formatted lt "m"',
        query: filtered('/Users', 'addresses.formatted lt "m"'),
        scimType: 'invalidFilter',
        names: 'addresses',
      },
      { label: 'sortBy=emails', query: '/Users?sortBy=emails', scimType: 'invalidValue', names: 'emails' },
      {
        label: 'sortBy=emails.value',
        query: '/Users?sortBy=emails.value',
        scimType: 'invalidValue',
        names: 'emails.value',
      },
    ],
    async ({ query, scimType, names }) => {
      const r = await t.request('GET', query);
      expectScimError(r, 400, [scimType], names);
      expect(r.text).not.toMatch(/LDAP result/);
    },
  );
});

const me: (Row & { method: string; body?: unknown })[] = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].map(
  (method) => ({
    label: `${method} /Me`,
    method,
    ...(method === 'POST' || method === 'PUT' ? { body: { schemas: [USER], userName: 'me' } } : {}),
    ...(method === 'PATCH'
      ? { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] } }
      : {}),
  }),
);

describe('/Me is not supported: 501 (RFC 7644 §3.11)', () => {
  eachRow(me, async ({ method, body }) => {
    expectScimError(await t.request(method, '/Me', body), 501, []);
    expectScimError(await t.request(method, '/me/anything/', body), 501, []);
  });
  it('is authenticated like every SCIM route: 401 without a token', async () => {
    const r = await t.request('GET', '/Me', undefined, { Authorization: 'Bearer wrong' });
    expectScimError(r, 401, []);
  });
});
