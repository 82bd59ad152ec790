/**
 * Names that must round-trip (mapping/names.ts): the values that name an entry or must be unique
 * may not carry control, format (invisible) characters or lone surrogates; visible text of any
 * script passes. Through the OpenLDAP preset: userName (uid, RDN, unique), Group displayName (cn, RDN).
 */
import { describe, expect, it } from 'vitest';
import { STANDARD_SCHEMAS } from '../../../src/mapping/catalog.ts';
import { MappingValueError, resourceToAttributes } from '../../../src/mapping/convert.ts';
import { loadMappingDirectory } from '../../../src/mapping/load.ts';
import { nameProblem, nameRules } from '../../../src/mapping/names.ts';

const set = loadMappingDirectory('mappings/openldap', STANDARD_SCHEMAS);
const users = set.resourceTypes.find((r) => r.name === 'User')!;
const groups = set.resourceTypes.find((r) => r.name === 'Group')!;

describe('nameProblem', () => {
  it.each(['alice', 'zoë.łukasz.日本', 'José', 'jose\u0301', 'O’Brien', 'a b', '😀', ''])(
    '%j passes',
    (text) => {
      expect(nameProblem(text)).toBeUndefined();
    },
  );

  it.each([
    ['NUL', 'ali\u0000ce', 'U+0000'],
    ['CR LF', 'ali\r\nce', 'U+000D'],
    ['TAB', 'ali\tce', 'U+0009'],
    ['DEL', 'alice\u007f', 'U+007F'],
    ['a C1 control', '\u0085alice', 'U+0085'],
    ['a zero-width space', 'ali\u200bce', 'U+200B'],
    ['a zero-width non-joiner', 'ali\u200cce', 'U+200C'],
    ['a zero-width joiner', 'ali\u200dce', 'U+200D'],
    ['a right-to-left override', '\u202ealice', 'U+202E'],
    ['a word joiner', 'ali\u2060ce', 'U+2060'],
    ['a byte-order mark', '\ufeffalice', 'U+FEFF'],
    ['a soft hyphen', 'ali\u00adce', 'U+00AD'],
    ['a lone high surrogate', 'ali\ud800ce', 'lone surrogate'],
    ['a lone low surrogate', 'alice\udc00', 'lone surrogate'],
  ])('%s is refused', (_label, text, named) => {
    expect(nameProblem(text)).toContain(named);
  });
});

describe('nameRules', () => {
  it('are the DN template placeholders and the unique attributes', () => {
    expect(nameRules(users).map((r) => r.key)).toEqual(['userName']);
    expect(nameRules(groups).map((r) => r.key)).toEqual(['displayName']);
  });
});

describe('resourceToAttributes refuses names that cannot round-trip', () => {
  it.each([
    [users, { userName: 'ali\u200bce' }, 'userName'],
    [users, { userName: 'ali\u0000ce' }, 'userName'],
    [groups, { displayName: 'engi\r\nneering' }, 'displayName'],
    [groups, { displayName: '\ufeffengineering' }, 'displayName'],
  ])('%#: %j', (rt, resource, attribute) => {
    let error: unknown;
    try {
      resourceToAttributes(rt, resource, new Map(), 'create');
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(MappingValueError);
    expect((error as MappingValueError).attribute).toBe(attribute);
  });

  it('other attributes keep their line breaks (a postal address is multi-line)', () => {
    const attributes = resourceToAttributes(
      users,
      { userName: 'ada', addresses: [{ type: 'work', formatted: 'Line 1\nLine 2' }] },
      new Map(),
      'create',
    );
    expect(attributes.get('postaladdress')?.values).toEqual(['Line 1$Line 2']);
  });
});
