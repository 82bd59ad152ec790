/**
 * Hostile input, class "query numbers" (issue 15, Low): startIndex and count are integers in
 * decimal (RFC 7644 §3.4.2.4); `0x10`, `1e1`, `5.5`, `0b1` or `abc` are not, and are refused with
 * 400 `invalidValue` rather than read as something else (`count=0x10` as 16).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { expectScimError, said } from './helpers.ts';

let t: TestBridge;

beforeAll(async () => {
  t = await startTestBridge();
});
afterAll(async () => {
  await t?.stop();
});

/** Values that are not decimal integers (before issue 15, `Number()` read `count=0x10` as 16). */
const NOT_DECIMAL = [
  '0x10',
  '0X2',
  '1e1',
  '5.5',
  '0b1',
  '0o7',
  'abc',
  'Infinity',
  '1_0',
  '%20%205',
  '5%20',
  '%2B5',
];

describe('hostile input: numbers in the query', () => {
  it('decimal count and startIndex are honoured', async () => {
    const r = await t.request('GET', '/Users?count=2&startIndex=2');
    expect(r.status, said(r)).toBe(200);
    expect(r.body).toMatchObject({ startIndex: 2, itemsPerPage: 2 });
  });

  it('a negative count is read as 0 and startIndex below 1 as 1 (RFC 7644 §3.4.2.4)', async () => {
    const r = await t.request('GET', '/Users?count=-5&startIndex=0');
    expect(r.status, said(r)).toBe(200);
    expect(r.body).toMatchObject({ startIndex: 1, itemsPerPage: 0 });
  });

  for (const value of NOT_DECIMAL) {
    it(`count=${value} is 400 invalidValue`, async () => {
      expectScimError(await t.request('GET', `/Users?count=${value}`), 400, 'invalidValue');
    });

    it(`startIndex=${value} is 400 invalidValue`, async () => {
      expectScimError(await t.request('GET', `/Users?startIndex=${value}`), 400, 'invalidValue');
    });
  }
});
