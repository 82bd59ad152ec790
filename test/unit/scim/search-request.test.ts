import { describe, expect, it } from 'vitest';
import { ScimError } from '../../../src/scim/errors.ts';
import {
  listQueryFromSearchRequest,
  listQueryFromUrl,
  queryParameters,
} from '../../../src/scim/search-request.ts';

const list = (querystring: string) => listQueryFromUrl(queryParameters(querystring));

describe('list query parameters from the URL (RFC 7644 §3.4.2)', () => {
  it.each([
    ['', {}],
    ['count=5&startIndex=2', { count: 5, startIndex: 2 }],
    // Names are matched case-insensitively (Okta sends startIndex, others startindex).
    ['STARTINDEX=3&Count=7', { startIndex: 3, count: 7 }],
    ['filter=userName%20eq%20%22a%2Bb%22', { filter: 'userName eq "a+b"' }],
    // Form encoding: + is a space.
    ['filter=userName+eq+%22x%22', { filter: 'userName eq "x"' }],
    // A stray % is kept as it is, not an error.
    ['filter=displayName+co+%22100%%22', { filter: 'displayName co "100%"' }],
    ['sortBy=name.familyName&sortOrder=DESCENDING', { sortBy: 'name.familyName', sortOrder: 'descending' }],
    // Attribute names are case-insensitive (RFC 7643 §2.1): compared in lower case.
    ['attributes=userName,emails&excludedAttributes=', { attributes: ['username', 'emails'] }],
    ['cursor=&count=10', { cursor: '', count: 10 }],
    // Leading zeros and a minus sign are still decimal (a negative count reads as 0 later).
    ['count=007&startIndex=-3', { count: 7, startIndex: -3 }],
    ['unknown=1&count=', {}],
  ])('%s', (querystring, expected) => {
    expect(list(querystring)).toEqual(expected);
  });

  it.each([
    ['count=1&count=2', 'count was given more than once'],
    // Spelled differently, still the same parameter twice.
    ['count=1&Count=2', 'count was given more than once'],
    ['filter=a&FILTER=b', 'filter was given more than once'],
    ['count=ten', 'count must be a decimal integer'],
    ['startIndex=1.5', 'startIndex must be a decimal integer'],
    // Only decimal digits (RFC 7644 §3.4.2.4): Number() would read each of these as a number.
    ['count=0x10', 'count must be a decimal integer'],
    ['count=0X2', 'count must be a decimal integer'],
    ['count=1e1', 'count must be a decimal integer'],
    ['count=0b1', 'count must be a decimal integer'],
    ['count=0o7', 'count must be a decimal integer'],
    ['count=%20%205', 'count must be a decimal integer'],
    ['count=5%20', 'count must be a decimal integer'],
    ['count=%2B5', 'count must be a decimal integer'],
    ['count=1_0', 'count must be a decimal integer'],
    ['count=Infinity', 'count must be a decimal integer'],
    ['startIndex=99999999999999999999', 'startIndex must be a decimal integer'],
    ['startIndex=--1', 'startIndex must be a decimal integer'],
    ['sortOrder=up', 'sortOrder must be "ascending" or "descending"'],
  ])('%s is refused: %s', (querystring, detail) => {
    let error: unknown;
    try {
      list(querystring);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ScimError);
    expect(error).toMatchObject({
      status: 400,
      scimType: 'invalidValue',
      detail: expect.stringContaining(detail),
    });
  });
});

describe('numbers in a SearchRequest body (RFC 7644 §3.4.3)', () => {
  const body = (extra: Record<string, unknown>) => ({
    schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'],
    ...extra,
  });

  it.each([
    [{ count: 5 }, { count: 5 }],
    [{ startIndex: '12' }, { startIndex: 12 }],
  ])('%j is read', (extra, expected) => {
    expect(listQueryFromSearchRequest(body(extra))).toEqual(expected);
  });

  it.each([
    [{ count: 1.5 }],
    [{ count: '0x10' }],
    [{ count: '1e1' }],
    [{ count: ' 5' }],
    [{ count: true }],
    [{ startIndex: [1] }],
    [{ startIndex: 1e300 }],
  ])('%j is 400 invalidValue', (extra) => {
    expect(() => listQueryFromSearchRequest(body(extra))).toThrow(
      expect.objectContaining({ status: 400, scimType: 'invalidValue' }),
    );
  });
});
