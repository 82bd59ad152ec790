/**
 * memberDelta (services/resources/membership.ts): a PATCH's operations on a Group's members as id
 * lists, the form in which the service writes them without reading the member list. Moved here
 * from test/unit/scim/patch.test.ts with the function.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ScimError } from '../../../src/scim/errors.ts';
import { applyPatch } from '../../../src/scim/patch.ts';
import { PATCH_OP_SCHEMA, parsePatchRequest } from '../../../src/scim/patch-request.ts';
import type { ResourceShape, ScimObject } from '../../../src/scim/resource.ts';
import { GROUP_SCHEMA, GROUP_SCHEMA_DEFINITION } from '../../../src/scim/schema-defs.ts';
import { memberDelta } from '../../../src/services/resources/membership.ts';

const GROUP: ResourceShape = { coreSchema: GROUP_SCHEMA_DEFINITION, extensions: [] };
const body = (...Operations: unknown[]) => ({ schemas: [PATCH_OP_SCHEMA], Operations });

function errorOf(run: () => unknown): ScimError {
  try {
    run();
  } catch (err) {
    if (err instanceof ScimError) return err;
    throw new Error(`expected a ScimError, got ${String(err)}`);
  }
  throw new Error('expected an error, got a result');
}

// --- memberDelta ---------------------------------------------------------------------------------

function delta(...operations: unknown[]) {
  return memberDelta(parsePatchRequest(body(...operations), GROUP));
}

describe('memberDelta', () => {
  it.each([
    [
      'add with values',
      [{ op: 'Add', path: 'members', value: [{ value: 'a' }, { value: 'b' }] }],
      { add: ['a', 'b'], remove: [] },
    ],
    [
      'add of one object',
      [{ op: 'add', path: 'members', value: { value: 'a' } }],
      { add: ['a'], remove: [] },
    ],
    ['remove by filter', [{ op: 'remove', path: 'members[value eq "a"]' }], { add: [], remove: ['a'] }],
    [
      'remove by an or of value filters',
      [{ op: 'remove', path: 'members[value eq "a" or value eq "b"]' }],
      { add: [], remove: ['a', 'b'] },
    ],
    [
      'remove with a value list (Entra)',
      [{ op: 'Remove', path: 'members', value: [{ value: 'a' }] }],
      { add: [], remove: ['a'] },
    ],
    ['remove all', [{ op: 'remove', path: 'members' }], { add: [], remove: [], replaceAll: [] }],
    [
      'replace the list',
      [{ op: 'replace', path: 'members', value: [{ value: 'x' }, { value: 'x' }] }],
      { add: [], remove: [], replaceAll: ['x'] },
    ],
    [
      'replace with null',
      [{ op: 'replace', path: 'members', value: null }],
      { add: [], remove: [], replaceAll: [] },
    ],
    [
      'add then remove the same id: the later operation wins',
      [
        { op: 'add', path: 'members', value: [{ value: 'a' }] },
        { op: 'remove', path: 'members[value eq "a"]' },
      ],
      { add: [], remove: ['a'] },
    ],
    [
      'remove then add the same id',
      [
        { op: 'remove', path: 'members[value eq "a"]' },
        { op: 'add', path: 'members', value: [{ value: 'a' }] },
      ],
      { add: ['a'], remove: [] },
    ],
    [
      'a replace absorbs what follows and discards what precedes',
      [
        { op: 'add', path: 'members', value: [{ value: 'early' }] },
        { op: 'replace', path: 'members', value: [{ value: 'a' }, { value: 'b' }] },
        { op: 'add', path: 'members', value: [{ value: 'c' }] },
        { op: 'remove', path: 'members[value eq "a"]' },
      ],
      { add: [], remove: [], replaceAll: ['b', 'c'] },
    ],
    [
      'path-less add of members',
      [{ op: 'add', value: { members: [{ value: 'a' }] } }],
      { add: ['a'], remove: [] },
    ],
    [
      'schema-qualified path',
      [{ op: 'add', path: `${GROUP_SCHEMA}:members`, value: [{ value: 'a' }] }],
      { add: ['a'], remove: [] },
    ],
    ['bare string ids', [{ op: 'add', path: 'members', value: ['a', 'b'] }], { add: ['a', 'b'], remove: [] }],
  ])('%s', (_label, operations, expected) => {
    const d = delta(...operations);
    expect(d).toEqual({ ...expected, other: [] });
  });

  it('leaves everything else in order in other', () => {
    const d = delta(
      { op: 'replace', path: 'displayName', value: 'x' },
      { op: 'add', path: 'members', value: [{ value: 'a' }] },
      { op: 'remove', path: 'members[display eq "Babs"]' },
      { op: 'replace', path: 'members[value eq "a"].display', value: 'A' },
      { op: 'add', path: 'members[value eq "a"]', value: { display: 'A' } },
    );
    expect(d.add).toEqual(['a']);
    expect(d.remove).toEqual([]);
    expect(d.replaceAll).toBeUndefined();
    expect(d.other.map((o) => o.op)).toEqual(['replace', 'remove', 'replace', 'add']);
    expect(d.other[0]?.path).toEqual({ path: { attribute: 'displayName' } });
  });

  it.each([
    [{ op: 'add', path: 'members', value: [{ display: 'no value' }] }, 'members[0].value'],
    [{ op: 'add', path: 'members', value: [{ value: 7 }] }, 'members[0].value'],
    [{ op: 'remove', path: 'members', value: [{ value: 'a' }, { value: '' }] }, 'members[1].value'],
  ])('rejects member values without an id: %j', (operation, fragment) => {
    const err = errorOf(() => delta(operation));
    expect(err.scimType).toBe('invalidValue');
    expect(err.detail).toContain(fragment);
  });

  // memberDelta and applyPatch are two implementations of the same semantics: they must agree.
  const id = fc.constantFrom('a', 'b', 'c', 'd', 'e');
  const ids = fc.array(id, { maxLength: 4 });
  const memberOp = fc.oneof(
    ids.map((v) => ({ op: 'add', path: 'members', value: v.map((value) => ({ value })) })),
    id.map((v) => ({ op: 'remove', path: `members[value eq "${v}"]` })),
    fc.tuple(id, id).map(([x, y]) => ({ op: 'remove', path: `members[value eq "${x}" or value eq "${y}"]` })),
    fc
      .array(id, { minLength: 1, maxLength: 3 })
      .map((v) => ({ op: 'remove', path: 'members', value: v.map((value) => ({ value })) })),
    ids.map((v) => ({ op: 'replace', path: 'members', value: v.map((value) => ({ value })) })),
    fc.constant({ op: 'remove', path: 'members' }),
  );
  it('agrees with applyPatch on the final member set', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(id),
        fc.array(memberOp, { minLength: 1, maxLength: 8 }),
        (initial, operations) => {
          const group: ScimObject = { schemas: [GROUP_SCHEMA], id: 'g', displayName: 'G' };
          if (initial.length > 0) group.members = initial.map((value) => ({ value }));
          const ops = parsePatchRequest(body(...operations));
          const patched = applyPatch(group, ops, GROUP);
          const viaPatch = new Set(
            ((patched.members as { value: string }[] | undefined) ?? []).map((m) => m.value),
          );

          const d = memberDelta(ops);
          expect(d.other).toEqual([]);
          expect(d.add.filter((x) => d.remove.includes(x))).toEqual([]);
          const viaDelta = new Set(d.replaceAll ?? initial);
          for (const x of d.add) viaDelta.add(x);
          for (const x of d.remove) viaDelta.delete(x);
          expect([...viaDelta].sort()).toEqual([...viaPatch].sort());
        },
      ),
      { numRuns: 500 },
    );
  });
});
