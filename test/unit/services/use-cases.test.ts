/**
 * Decisions of the write use cases, against the in-memory directory: uniqueness, If-Match,
 * deleteMode "disable" on the Active Directory preset, and the outcomes of a provisioning saga.
 * Each case asserts on the operations the directory received or the error thrown.
 */
import { describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import type { MappingSet } from '../../../src/mapping/compiled.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import { guidToBytes } from '../../../src/mapping/transforms.ts';
import type { SagaOutcome } from '../../../src/ports/events.ts';
import {
  bench,
  ctx,
  ids,
  ldapGroup,
  ldapUser,
  modificationsOf,
  OPENLDAP,
  PEOPLE,
  scimErrorOf,
  typeOf,
} from './fixtures.ts';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const users = typeOf(OPENLDAP, 'User');
const ALICE = `uid=alice,${PEOPLE}`;
const twoUsers = () => [ldapUser('alice', ids.alice), ldapUser('bob', ids.bob)];

describe('uniqueness of userName (RFC 7643 §2.2)', () => {
  it.each([
    ['POST with a taken userName', 'create', 'bob', true],
    ['POST with a free userName', 'create', 'carol', false],
    ['PUT that takes another user’s userName', 'replace', 'bob', true],
    ['PUT that keeps its own userName', 'replace', 'alice', false],
  ] as const)('%s', async (_name, useCase, userName, conflict) => {
    const { directory, service } = bench(twoUsers());
    const body = { schemas: [USER_SCHEMA], userName };
    const work =
      useCase === 'create'
        ? service.create({ resourceType: users, body, ctx })
        : service.replace({ resourceType: users, id: ids.alice, body, precondition: {}, ctx });
    if (conflict) {
      const error = await scimErrorOf(work);
      expect([error.status, error.scimType]).toEqual([409, 'uniqueness']);
      expect(directory.writes()).toEqual([]);
    } else {
      // No conflict: the use case goes through (a PUT that changes nothing writes nothing).
      await expect(work).resolves.toMatchObject({ resource: { userName } });
    }
  });
});

describe('If-Match (RFC 7644 §3.14)', () => {
  const patch = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'displayName', value: 'A' }] };
  it.each([
    [
      'the current version',
      'W/"csn-alice"',
      { assertion: { type: 'equal', attribute: 'entryCSN', value: 'csn-alice' } },
    ],
    [
      'one of several versions',
      'W/"old", W/"csn-alice"',
      { assertion: { type: 'equal', attribute: 'entryCSN', value: 'csn-alice' } },
    ],
    ['*', '*', {}],
    ['no header', undefined, {}],
  ])('PATCH with %s writes, asserting the version it checked', async (_name, ifMatch, expected) => {
    const { directory, service } = bench(twoUsers());
    const precondition = ifMatch === undefined ? {} : { ifMatch };
    await service.patch({ resourceType: users, id: ids.alice, body: patch, precondition, ctx });
    const modify = directory.writes().find((op) => op.kind === 'modify');
    expect(modify?.kind === 'modify' && modify.options?.assertion).toEqual(
      'assertion' in expected ? expected.assertion : undefined,
    );
  });

  it.each([
    ['PATCH', 'W/"stale"'],
    ['DELETE', 'W/"stale"'],
    ['DELETE', '"csn-bob"'],
  ])('%s with If-Match %s (not the version) is 412 and writes nothing', async (method, ifMatch) => {
    const { directory, service } = bench(twoUsers());
    const request = { resourceType: users, id: ids.alice, precondition: { ifMatch }, ctx };
    const error = await scimErrorOf(
      method === 'PATCH' ? service.patch({ ...request, body: patch }) : service.delete(request),
    );
    expect(error.status).toBe(412);
    expect(directory.writes()).toEqual([]);
  });
});

describe('deleteMode "disable" (Active Directory)', () => {
  const ad = loadMappingDirectory('mappings/activedirectory', STANDARD_SCHEMAS);
  const adUsers = typeOf(ad, 'User');
  const set: MappingSet = {
    ...ad,
    resourceTypes: ad.resourceTypes.map((rt) =>
      rt === adUsers ? { ...rt, directory: { ...rt.directory, deleteMode: 'disable' as const } } : rt,
    ),
  };
  const USER_DN = 'CN=alice,CN=Users,DC=example,DC=test';
  const GROUP_DN = 'CN=admins,OU=Groups,DC=example,DC=test';
  const adEntry = (dn: string, id: string, attributes: Record<string, (string | Buffer)[]>) => ({
    dn,
    attributes: { objectGUID: [guidToBytes(id) as Buffer], uSNChanged: ['100'], ...attributes },
  });
  const entries = [
    { dn: 'CN=Users,DC=example,DC=test', attributes: {} },
    { dn: 'OU=Groups,DC=example,DC=test', attributes: {} },
    adEntry(USER_DN, ids.alice, {
      objectClass: ['top', 'person', 'organizationalPerson', 'user'],
      objectCategory: ['person'],
      sAMAccountName: ['alice'],
      userAccountControl: ['66048'], // NORMAL_ACCOUNT | DONT_EXPIRE_PASSWORD, enabled
      memberOf: [GROUP_DN],
    }),
    adEntry(GROUP_DN, ids.admins, { objectClass: ['top', 'group'], cn: ['admins'], member: [USER_DN] }),
  ];

  it('keeps the entry, sets the disable bit (other bits kept), and removes it from its groups', async () => {
    const { directory, service } = bench(entries, { set, ids: ['objectGUID', 'uSNChanged'] });
    await service.delete({ resourceType: typeOf(set, 'User'), id: ids.alice, precondition: {}, ctx });
    expect(directory.writes().some((op) => op.kind === 'delete')).toBe(false);
    expect(modificationsOf(directory, USER_DN)).toEqual([
      { operation: 'replace', attribute: 'userAccountControl', values: ['66050'] },
    ]);
    expect(modificationsOf(directory, GROUP_DN)).toEqual([
      { operation: 'delete', attribute: 'member', values: [USER_DN] },
    ]);
  });
});

describe('settleProvisioning (sagas)', () => {
  const outcome = (o: Partial<SagaOutcome>): SagaOutcome => ({
    resourceType: 'User',
    resourceId: ids.alice,
    outcome: 'confirmed',
    activate: true,
    services: ['hr'],
    ...o,
  });
  const disabled = () => [ldapUser('alice', ids.alice, { scimActive: ['FALSE'] })];

  it.each([
    [
      'confirmed, client asked active',
      outcome({}),
      'disable',
      [
        {
          kind: 'modify',
          dn: ALICE,
          changes: [{ operation: 'replace', attribute: 'scimActive', values: ['TRUE'] }],
        },
      ],
      ['activated'],
    ],
    ['confirmed, client asked inactive', outcome({ activate: false }), 'disable', [], []],
    [
      'failed, compensation disable',
      outcome({ outcome: 'failed', reason: 'refused' }),
      'disable',
      [],
      ['provisioning_failed'],
    ],
    [
      'failed, compensation delete',
      outcome({ outcome: 'failed' }),
      'delete',
      [{ kind: 'delete', dn: ALICE }],
      ['provisioning_failed', 'deleted'],
    ],
    ['entry deleted meanwhile', outcome({ resourceId: ids.bob }), 'delete', [], []],
  ] as const)('%s', async (_name, settled, compensation, writes, events) => {
    const { directory, service, intents } = bench(disabled(), { journal: true });
    await service.settleProvisioning(settled, compensation);
    expect(directory.writes()).toEqual(writes);
    expect(intents.flatMap((i) => i.events.map((e) => e.change))).toEqual(events);
  });
});

describe('a group the user is in stays untouched by a PATCH of the user', () => {
  it('writes only the user', async () => {
    const { directory, service } = bench([
      ldapUser('alice', ids.alice),
      ldapGroup('admins', ids.admins, [ALICE]),
    ]);
    await service.patch({
      resourceType: users,
      id: ids.alice,
      body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Boss' }] },
      precondition: {},
      ctx,
    });
    expect(directory.writes().map((op) => op.kind === 'modify' && op.dn)).toEqual([ALICE]);
  });
});
