import { describe, expect, it } from 'vitest';
import {
  parseLogRecord,
  parseModifications,
  parseOldValues,
  reqStartIso,
  reqStartMicros,
  reqStartMinus,
} from '../../../src/feed/accesslog.ts';

describe('reqMod lines', () => {
  it.each([
    [['displayName:= X Y'], [{ attribute: 'displayname', operation: 'replace', values: ['X Y'] }]],
    [
      ['member:+ uid=a,o=x', 'member:+ uid=b,o=x'],
      [{ attribute: 'member', operation: 'add', values: ['uid=a,o=x', 'uid=b,o=x'] }],
    ],
    [
      ['member:- uid=a,o=x', 'member:+ uid=b,o=x'],
      [
        { attribute: 'member', operation: 'delete', values: ['uid=a,o=x'] },
        { attribute: 'member', operation: 'add', values: ['uid=b,o=x'] },
      ],
    ],
    [['description:-'], [{ attribute: 'description', operation: 'delete', values: [] }]],
    [['description:='], [{ attribute: 'description', operation: 'replace', values: [] }]],
    [['uidNumber:# 1'], [{ attribute: 'uidnumber', operation: 'increment', values: ['1'] }]],
    [
      ['description:= a: b, with colons'],
      [{ attribute: 'description', operation: 'replace', values: ['a: b, with colons'] }],
    ],
    [['cn;lang-de:+ Name'], [{ attribute: 'cn;lang-de', operation: 'add', values: ['Name'] }]],
  ])('%j', (lines, expected) => {
    expect(parseModifications(lines)).toEqual(expected);
  });

  it.each([
    ['no colon at all'],
    ['attr:* unknown operation'],
    [':= no attribute'],
    ['attr:=value without the space'],
  ])('refuses %j', (line) => {
    expect(() => parseModifications([line])).toThrow(/reqMod line not understood/);
  });
});

describe('reqOld lines', () => {
  it('groups values by lower-cased attribute', () => {
    const old = parseOldValues(['member: uid=a', 'Member: uid=b', 'entryUUID: 1234']);
    expect(Object.fromEntries(old)).toEqual({ member: ['uid=a', 'uid=b'], entryuuid: ['1234'] });
  });
  it.each([['no separator'], [': empty name']])('refuses %j', (line) => {
    expect(() => parseOldValues([line])).toThrow(/reqOld line not understood/);
  });
});

describe('records', () => {
  const base = {
    reqStart: '20261205005233.835770Z',
    reqDN: 'uid=a,ou=People,dc=x',
    reqAuthzID: 'cn=admin,dc=x',
  };
  it('a modrdn names the new DN and the entry', () => {
    const record = parseLogRecord({
      ...base,
      reqType: 'modrdn',
      reqNewDN: 'uid=b,ou=People,dc=x',
      reqEntryUUID: 'E6C6D836-8491-1041-9F77-BB04CC89E000',
      reqMod: ['entryCSN:= 20261205005233.868664Z#000000#000#000000'],
      reqOld: ['uid: a', 'objectClass: inetOrgPerson'],
    });
    expect(record).toMatchObject({
      operation: 'modrdn',
      dn: 'uid=a,ou=People,dc=x',
      newDn: 'uid=b,ou=People,dc=x',
      entryUuid: 'e6c6d836-8491-1041-9f77-bb04cc89e000',
      authzId: 'cn=admin,dc=x',
    });
  });
  it('a delete without reqEntryUUID takes the id from the old entry', () => {
    const record = parseLogRecord({ ...base, reqType: 'delete', reqOld: ['entryUUID: ABC', 'uid: a'] });
    expect(record.entryUuid).toBe('abc');
    expect(record.newDn).toBeUndefined();
  });
  it('an add without reqEntryUUID takes it from its own values', () => {
    expect(
      parseLogRecord({ ...base, reqType: 'add', reqMod: ['uid:+ a', 'entryUUID:+ F00'] }).entryUuid,
    ).toBe('f00');
  });
  it.each([
    [{ ...base, reqStart: undefined }, /without a valid reqStart/],
    [{ ...base, reqStart: '2026-12-05' }, /without a valid reqStart/],
    [{ ...base, reqType: 'search' }, /is not a write/],
    [{ ...base, reqType: 'bind' }, /is not a write/],
    [{ ...base, reqType: 'modify', reqDN: undefined }, /without reqDN/],
    [{ ...base, reqType: 'modify', reqMod: ['garbage'] }, /reqMod line not understood/],
  ])('refuses a malformed record (%#)', (entry, message) => {
    expect(() => parseLogRecord(entry as never)).toThrow(message);
  });
});

describe('generalized times', () => {
  it.each([
    ['20261205005233.835770Z', Date.UTC(2026, 11, 5, 0, 52, 33) * 1000 + 835_770],
    ['20261205005233.000007Z', Date.UTC(2026, 11, 5, 0, 52, 33) * 1000 + 7],
    ['20261205005233.5Z', Date.UTC(2026, 11, 5, 0, 52, 33) * 1000 + 500_000],
    ['20261205005233Z', Date.UTC(2026, 11, 5, 0, 52, 33) * 1000],
  ])('%s in microseconds', (text, micros) => {
    expect(reqStartMicros(text)).toBe(micros);
  });
  it('refuses what is not a generalized time', () => {
    expect(() => reqStartMicros('yesterday')).toThrow(/not a generalized time/);
  });
  it.each([
    ['20261205005233.835770Z', 2000, '20261205005231.835770Z'],
    ['20261205000000.000100Z', 1, '20261204235959.999100Z'],
    ['20270101000000.000000Z', 1000, '20261231235959.000000Z'],
  ])('%s minus %i ms', (text, ms, expected) => {
    expect(reqStartMinus(text, ms)).toBe(expected);
  });
  it('as ISO 8601', () => {
    expect(reqStartIso('20261205005233.835770Z')).toBe('2026-12-05T00:52:33.835Z');
  });
});
