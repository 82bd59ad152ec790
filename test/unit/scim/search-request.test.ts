import { describe, expect, it } from 'vitest';
import { ScimError } from '../../../src/scim/errors.ts';
import { listQueryFromUrl, queryParameters } from '../../../src/scim/search-request.ts';

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
    ['unknown=1&count=', {}],
  ])('%s', (querystring, expected) => {
    expect(list(querystring)).toEqual(expected);
  });

  it.each([
    ['count=1&count=2', 'count was given more than once'],
    // Spelled differently, still the same parameter twice.
    ['count=1&Count=2', 'count was given more than once'],
    ['filter=a&FILTER=b', 'filter was given more than once'],
    ['count=ten', 'count must be an integer'],
    ['startIndex=1.5', 'startIndex must be an integer'],
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
