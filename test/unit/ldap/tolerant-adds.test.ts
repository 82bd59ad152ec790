import { describe, expect, it } from 'vitest';
import { mergeAdds, withoutPresentValues } from '../../../src/ldap/tolerant-adds.ts';
import type { DirChange, DirEntry } from '../../../src/ports/directory.ts';

const oc = (...values: string[]): DirChange => ({ operation: 'add', attribute: 'objectClass', values });
const member = (...values: string[]): DirChange => ({ operation: 'add', attribute: 'member', values });
const replace: DirChange = { operation: 'replace', attribute: 'scimExternalId', values: ['x'] };
const removal: DirChange = { operation: 'delete', attribute: 'member', values: ['uid=a'] };

describe('mergeAdds', () => {
  const cases: [string, DirChange[], DirChange[]][] = [
    ['no changes', [], []],
    ['one add kept as is', [oc('scimResource'), replace], [oc('scimResource'), replace]],
    [
      'the same class asked for twice (PUT on a group: replace and placeholder)',
      [oc('scimResource'), replace, member('cn=placeholder'), oc('scimResource'), removal],
      [oc('scimResource'), replace, member('cn=placeholder'), removal],
    ],
    [
      'values compared case-insensitively',
      [oc('scimResource'), oc('SCIMRESOURCE', 'other')],
      [oc('scimResource', 'other')],
    ],
    [
      'attribute names compared case-insensitively',
      [oc('a'), { operation: 'add', attribute: 'OBJECTCLASS', values: ['b'] }],
      [oc('a', 'b')],
    ],
    ['deletes and replaces untouched', [removal, replace, removal], [removal, replace, removal]],
  ];
  it.each(cases)('%s', (_label, input, expected) => {
    expect(mergeAdds(input)).toEqual(expected);
  });
});

describe('withoutPresentValues', () => {
  const entry = (attributes: DirEntry['attributes']): DirEntry => ({ dn: 'cn=g', attributes });
  const cases: [string, DirChange[], DirEntry, DirChange[] | undefined][] = [
    [
      'the class a concurrent write added is dropped, the rest goes again',
      [oc('scimResource'), replace],
      entry({ objectclass: ['top', 'groupOfNames', 'scimResource'] }),
      [replace],
    ],
    [
      'only the present values are dropped',
      [member('uid=a', 'uid=b'), replace],
      entry({ member: ['UID=A'] }),
      [member('uid=b'), replace],
    ],
    [
      'nothing present: undefined (20 was about something else)',
      [oc('scimResource')],
      entry({ objectclass: ['top'] }),
      undefined,
    ],
    ['no adds at all: undefined', [replace, removal], entry({ member: ['uid=a'] }), undefined],
    ['attribute missing from the read entry: undefined', [member('uid=a')], entry({}), undefined],
  ];
  it.each(cases)('%s', (_label, changes, current, expected) => {
    expect(withoutPresentValues(changes, current)).toEqual(expected);
  });
});
