/**
 * Group membership writes (docs/architecture.md §Membership): PATCH add/remove become value
 * add/delete of those members only; PUT compares the full list with the current members (read
 * through their memberOf back-links); the placeholder keeps groupOfNames valid. Expectations are
 * the LDAP changes written out by hand for the OpenLDAP preset.
 */
import { describe, expect, it } from 'vitest';
import {
  bench,
  ctx,
  GROUPS,
  ids,
  ldapGroup,
  ldapUser,
  modificationsOf,
  OPENLDAP,
  PEOPLE,
  PLACEHOLDER,
  typeOf,
} from './fixtures.ts';

const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const groups = typeOf(OPENLDAP, 'Group');
const ALICE = `uid=alice,${PEOPLE}`;
const BOB = `uid=bob,${PEOPLE}`;
const ADMINS = `cn=admins,${GROUPS}`;

/** alice is in no group; bob is in admins (memberOf kept by the directory, as the overlay does). */
function directoryWith(adminMembers: string[]) {
  return bench([
    ldapUser('alice', ids.alice),
    ldapUser('bob', ids.bob, { memberOf: adminMembers.includes(BOB) ? [ADMINS] : [] }),
    ldapGroup('admins', ids.admins, adminMembers),
  ]);
}

describe('PATCH of members: a delta of the members named', () => {
  it.each([
    [
      'add of one member adds that value only',
      [BOB, PLACEHOLDER],
      [{ op: 'add', path: 'members', value: [{ value: ids.alice }] }],
      [{ operation: 'add', attribute: 'member', values: [ALICE] }],
    ],
    [
      'remove of one member deletes that value only',
      [BOB, PLACEHOLDER],
      [{ op: 'remove', path: `members[value eq "${ids.bob}"]` }],
      [{ operation: 'delete', attribute: 'member', values: [BOB] }],
    ],
    [
      'remove from a group without the placeholder adds it in the same modify',
      [BOB],
      [{ op: 'remove', path: `members[value eq "${ids.bob}"]` }],
      [
        { operation: 'add', attribute: 'member', values: [PLACEHOLDER] },
        { operation: 'delete', attribute: 'member', values: [BOB] },
      ],
    ],
    [
      'add of a member already there writes nothing',
      [BOB, PLACEHOLDER],
      [{ op: 'add', path: 'members', value: [{ value: ids.bob }] }],
      [],
    ],
    [
      'replace of the list adds the new and deletes the old',
      [BOB, PLACEHOLDER],
      [{ op: 'replace', path: 'members', value: [{ value: ids.alice }] }],
      [
        { operation: 'add', attribute: 'member', values: [ALICE] },
        { operation: 'delete', attribute: 'member', values: [BOB] },
      ],
    ],
  ])('%s', async (_name, members, operations, expected) => {
    const { directory, service } = directoryWith(members);
    await service.patch({
      resourceType: groups,
      id: ids.admins,
      body: { schemas: [PATCH_OP], Operations: operations },
      precondition: {},
      ctx,
    });
    expect(modificationsOf(directory, ADMINS)).toEqual(expected);
  });

  it('refuses a member filter other than on value, before anything is written', async () => {
    const { directory, service } = directoryWith([BOB, PLACEHOLDER]);
    const work = service.patch({
      resourceType: groups,
      id: ids.admins,
      body: { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members[display eq "bob"]' }] },
      precondition: {},
      ctx,
    });
    await expect(work).rejects.toMatchObject({ status: 400, scimType: 'invalidFilter' });
    expect(directory.writes()).toEqual([]);
  });
});

describe('PUT of a group: the full member list replaces the current one', () => {
  it.each([
    [
      'a new list',
      [ids.alice],
      [
        { operation: 'add', attribute: 'member', values: [ALICE] },
        { operation: 'delete', attribute: 'member', values: [BOB] },
      ],
    ],
    ['the same list', [ids.bob], []],
    ['no members', [], [{ operation: 'delete', attribute: 'member', values: [BOB] }]],
  ])('with %s', async (_name, memberIds, expected) => {
    const { directory, service } = directoryWith([BOB, PLACEHOLDER]);
    await service.replace({
      resourceType: groups,
      id: ids.admins,
      body: {
        schemas: [GROUP_SCHEMA],
        displayName: 'admins',
        members: memberIds.map((value) => ({ value })),
      },
      precondition: {},
      ctx,
    });
    expect(modificationsOf(directory, ADMINS)).toEqual(expected);
  });
});

describe('POST of a group', () => {
  it('writes the initial members and the placeholder in the add', async () => {
    const { directory, service } = directoryWith([BOB, PLACEHOLDER]);
    await service.create({
      resourceType: groups,
      body: { schemas: [GROUP_SCHEMA], displayName: 'ops', members: [{ value: ids.alice }] },
      ctx,
    });
    const add = directory.writes().find((op) => op.kind === 'add');
    expect(add).toMatchObject({ kind: 'add', dn: `cn=ops,${GROUPS}` });
    expect(add?.kind === 'add' && add.attributes.member).toEqual([ALICE, PLACEHOLDER]);
  });
});
