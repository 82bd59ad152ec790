/**
 * Issue 14, class "schema URIs a resource type does not know" (Entra ID cannot create groups).
 * RFC 7643 §3: `schemas` names the schemas a representation uses, and a resource's extension
 * attributes sit under their schema URI. The rule tested here: a URI that carries no attributes in
 * the body is not an error (Entra's ADSCIM Group URI names nothing the body holds); a URI that
 * carries attributes the mapping lacks is refused with 400 naming it, never dropped silently.
 * Schema URIs compare case-insensitively, like the attribute names they qualify (RFC 7643 §2.1).
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { create, ENTERPRISE, eachRow, expectScimError, GROUP, type Json, type Row, USER } from './helpers.ts';

const ADSCIM_GROUP = 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group';
const UNKNOWN = 'urn:example:params:scim:schemas:extension:acme:2.0:User';

let t: TestBridge;
let ldap: Client;
let serial = 0;

beforeAll(async () => {
  t = await startTestBridge({ seed: 'empty' });
  ldap = await rootClientOf(t);
});

afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

function nextName(prefix: string): string {
  serial += 1;
  return `${prefix}-${serial}`;
}

/** Microsoft's published Create Group request (Entra ID provisioning, "Create Group"). */
function entraGroup(displayName: string): Json {
  return {
    schemas: [GROUP, ADSCIM_GROUP],
    externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
    displayName,
    meta: { resourceType: 'Group' },
  };
}

type Endpoint = '/Users' | '/Groups';

/** A body for the endpoint with its naming attribute filled in, `extra` merged over it. */
function bodyFor(endpoint: Endpoint, extra: Json): Json {
  return endpoint === '/Users'
    ? { schemas: [USER], userName: nextName('su'), ...extra }
    : { schemas: [GROUP], displayName: nextName('sg'), ...extra };
}

interface Accepted extends Row {
  endpoint: Endpoint;
  body: () => Json;
  /** An extension object that must read back under the resource's own spelling of its URI. */
  readsBack?: Json;
}

const accepted: Accepted[] = [
  {
    label: "Entra's Create Group body (ADSCIM URI, no ADSCIM attributes)",
    endpoint: '/Groups',
    body: () => entraGroup(nextName('entra')),
  },
  {
    label: 'an unknown URN listed, carrying no attributes',
    endpoint: '/Users',
    body: () => bodyFor('/Users', { schemas: [USER, UNKNOWN] }),
  },
  {
    label: 'an unknown URN listed with an empty object under it',
    endpoint: '/Users',
    body: () => bodyFor('/Users', { schemas: [USER, UNKNOWN], [UNKNOWN]: {} }),
  },
  {
    label: "another resource type's extension URN listed, no attributes",
    endpoint: '/Groups',
    body: () => bodyFor('/Groups', { schemas: [GROUP, ENTERPRISE] }),
  },
  {
    label: 'the enterprise URN listed, no enterprise attributes (Entra, Microsoft collection)',
    endpoint: '/Users',
    body: () => bodyFor('/Users', { schemas: [ENTERPRISE, USER] }),
  },
  {
    label: 'the enterprise extension with attributes',
    endpoint: '/Users',
    body: () => bodyFor('/Users', { schemas: [USER, ENTERPRISE], [ENTERPRISE]: { department: 'R&D' } }),
    readsBack: { department: 'R&D' },
  },
  {
    label: 'the core URN in upper case',
    endpoint: '/Users',
    body: () => bodyFor('/Users', { schemas: [USER.toUpperCase()] }),
  },
  {
    label: 'the core Group URN in lower case',
    endpoint: '/Groups',
    body: () => bodyFor('/Groups', { schemas: [GROUP.toLowerCase()] }),
  },
  {
    label: 'the enterprise URN in other case, in schemas and as the key',
    endpoint: '/Users',
    body: () => {
      const mixed = ENTERPRISE.replace('enterprise', 'Enterprise').replace(':User', ':user');
      return bodyFor('/Users', { schemas: [USER, mixed], [mixed]: { department: 'Ops' } });
    },
    readsBack: { department: 'Ops' },
  },
  {
    label: 'the enterprise URN in schemas in other case than the key',
    endpoint: '/Users',
    body: () =>
      bodyFor('/Users', {
        schemas: [USER, ENTERPRISE.toUpperCase()],
        [ENTERPRISE]: { organization: 'Example' },
      }),
    readsBack: { organization: 'Example' },
  },
  {
    label: 'an unknown URN in other case than listed, carrying no attributes',
    endpoint: '/Users',
    body: () => bodyFor('/Users', { schemas: [USER, UNKNOWN.toUpperCase()] }),
  },
];

describe('POST: URIs that carry nothing the mapping lacks are accepted', () => {
  eachRow(accepted, async ({ endpoint, body, readsBack }) => {
    const sent = body();
    const r = await t.request('POST', endpoint, sent);
    expect(r.status, r.text).toBe(201);
    const read = await t.request('GET', `${endpoint}/${r.body.id}`);
    expect(read.body.schemas.map((s: string) => s.toLowerCase())).toContain(
      (endpoint === '/Users' ? USER : GROUP).toLowerCase(),
    );
    if (readsBack) {
      expect(read.body[ENTERPRISE]).toEqual(readsBack);
      expect(read.body.schemas).toContain(ENTERPRISE);
    }
  });
});

describe('PUT: the same rule', () => {
  const puts: (Row & { endpoint: Endpoint; body: (name: string) => Json })[] = [
    {
      label: "Entra's Group body on PUT",
      endpoint: '/Groups',
      body: (name) => entraGroup(name),
    },
    {
      label: 'an unknown URN listed, no attributes, on PUT',
      endpoint: '/Users',
      body: (name) => ({ schemas: [USER, UNKNOWN], userName: name }),
    },
  ];
  eachRow(puts, async ({ endpoint, body }) => {
    const name = nextName('put');
    const id = await create(
      t,
      endpoint,
      endpoint === '/Users' ? { schemas: [USER], userName: name } : { schemas: [GROUP], displayName: name },
    );
    const r = await t.request('PUT', `${endpoint}/${id}`, body(name));
    expect(r.status, r.text).toBe(200);
  });
});

describe("Entra's group reaches the directory", () => {
  it('POST /Groups as Entra sends it: 201, read back exact, the entry in the directory', async () => {
    const r = await t.request('POST', '/Groups', entraGroup('entra-reaches'));
    expect(r.status, r.text).toBe(201);
    const read = await t.request('GET', `/Groups/${r.body.id}`);
    expect(read.body).toMatchObject({
      schemas: [GROUP],
      id: r.body.id,
      displayName: 'entra-reaches',
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
    });
    const { searchEntries } = await ldap.search('ou=Groups,dc=example,dc=com', {
      scope: 'one',
      filter: '(cn=entra-reaches)',
      attributes: ['entryUUID'],
    });
    expect(searchEntries.map((e) => e.entryUUID)).toEqual([r.body.id]);
  });
});

/** Bodies carrying attributes under a URI the mapping lacks: refused, naming the URI, nothing written. */
const refused: (Row & { endpoint: Endpoint; body: () => Json; names: string })[] = [
  {
    label: 'an unknown URN listed and carrying attributes',
    endpoint: '/Users',
    body: () => bodyFor('/Users', { schemas: [USER, UNKNOWN], [UNKNOWN]: { costCenter: '4711' } }),
    names: UNKNOWN,
  },
  {
    label: 'an unknown URN carrying attributes, not listed in schemas',
    endpoint: '/Users',
    body: () => bodyFor('/Users', { [UNKNOWN]: { costCenter: '4711' } }),
    names: UNKNOWN,
  },
  {
    label: 'a URN-qualified attribute of an unknown URN',
    endpoint: '/Users',
    body: () => bodyFor('/Users', { schemas: [USER, UNKNOWN], [`${UNKNOWN}:costCenter`]: '4711' }),
    names: UNKNOWN,
  },
  {
    label: 'the ADSCIM URN carrying attributes',
    endpoint: '/Groups',
    body: () => ({ ...entraGroup(nextName('adscim')), [ADSCIM_GROUP]: { objectId: 'x' } }),
    names: ADSCIM_GROUP,
  },
  {
    label: 'the enterprise extension on Groups, carrying attributes',
    endpoint: '/Groups',
    body: () => bodyFor('/Groups', { schemas: [GROUP, ENTERPRISE], [ENTERPRISE]: { department: 'X' } }),
    names: ENTERPRISE,
  },
];

describe('URIs that carry attributes the mapping lacks are refused, naming the URI', () => {
  eachRow(
    refused,
    async ({ endpoint, body, names }) => {
      const sent = body();
      const r = await t.request('POST', endpoint, sent);
      expectScimError(r, 400, ['invalidValue', 'invalidSyntax'], names);
      const key = endpoint === '/Users' ? 'userName' : 'displayName';
      const list = await t.request(
        'GET',
        `${endpoint}?filter=${encodeURIComponent(`${key} eq "${sent[key]}"`)}`,
      );
      expect(list.body.totalResults).toBe(0);
    },
    ': 400, nothing written',
  );
});
