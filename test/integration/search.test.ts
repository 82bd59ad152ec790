/**
 * Queries: POST /{type}/.search and the root /.search across resource types, paging windows and
 * totals checked against the sample directory (5 users, 2 groups in config/ldap/sample.ldif).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../harness/bridge.ts';

const SEARCH = 'urn:ietf:params:scim:api:messages:2.0:SearchRequest';
let t: TestBridge;
beforeAll(async () => {
  t = await startTestBridge();
});
afterAll(async () => {
  await t?.stop();
});

describe('searches', () => {
  it('POST /Users/.search takes the query in the body', async () => {
    const r = await t.request('POST', '/Users/.search', {
      schemas: [SEARCH],
      filter: 'userName eq "alice"',
      attributes: ['userName'],
    });
    expect(r.status).toBe(200);
    expect(r.body.totalResults).toBe(1);
    expect(r.body.Resources[0]).toEqual({
      schemas: expect.any(Array),
      id: expect.any(String),
      userName: 'alice',
    });
  });

  it('root /.search spans users and groups, with one total and a window across both', async () => {
    const all = await t.request('POST', '/.search', { schemas: [SEARCH], count: 100 });
    expect(all.status).toBe(200);
    expect(all.body.totalResults).toBe(7);
    const types = all.body.Resources.map((r: { meta: { resourceType: string } }) => r.meta.resourceType);
    expect(types).toEqual(['User', 'User', 'User', 'User', 'User', 'Group', 'Group']);
    const window = await t.request('POST', '/.search', { schemas: [SEARCH], startIndex: 5, count: 2 });
    expect(window.body.totalResults).toBe(7);
    expect(window.body.Resources.map((r: { id: string }) => r.id)).toEqual(
      all.body.Resources.slice(4, 6).map((r: { id: string }) => r.id),
    );
  });

  it('root search with a filter only one type can express matches that type only', async () => {
    const r = await t.request('POST', '/.search', { schemas: [SEARCH], filter: 'userName sw "a"' });
    expect(r.status).toBe(200);
    expect(
      r.body.Resources.every((x: { meta: { resourceType: string } }) => x.meta.resourceType === 'User'),
    ).toBe(true);
    const none = await t.request('POST', '/.search', { schemas: [SEARCH], filter: 'nickName eq "x"' });
    expect(none.status).toBe(400);
    expect(none.body.scimType).toBe('invalidFilter');
    const cursor = await t.request('POST', '/.search', { schemas: [SEARCH], cursor: '' });
    expect(cursor.status).toBe(400);
    expect(cursor.body.detail).toMatch(/per resource type/);
  });

  it('normalises startIndex < 1 to 1 and count < 0 to 0 (RFC 7644 §3.4.2.4)', async () => {
    const r = await t.request('GET', '/Users?startIndex=-3&count=-1');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ startIndex: 1, itemsPerPage: 0, totalResults: 5, Resources: [] });
  });

  it('sorts by a mapped attribute in both orders and refuses an unknown sortBy', async () => {
    const up = await t.request('GET', '/Users?sortBy=userName&sortOrder=ascending');
    const down = await t.request('GET', '/Users?sortBy=userName&sortOrder=descending');
    const names = up.body.Resources.map((u: { userName: string }) => u.userName);
    expect(names).toEqual([...names].sort());
    expect(down.body.Resources.map((u: { userName: string }) => u.userName)).toEqual([...names].reverse());
    const bad = await t.request('GET', '/Users?sortBy=nickName');
    expect(bad.status).toBe(400);
  });

  it('pages with RFC 9865 cursors: every user once, in order, and nextCursor absent at the end', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 10; page++) {
      const r = await t.request('GET', `/Users?count=2&cursor=${encodeURIComponent(cursor)}`);
      expect(r.status).toBe(200);
      expect(r.body.totalResults).toBe(5);
      seen.push(...r.body.Resources.map((u: { userName: string }) => u.userName));
      if (!r.body.nextCursor) break;
      cursor = r.body.nextCursor;
    }
    // Every user of the sample directory once, in the directory's own order (no sortBy).
    expect([...seen].sort()).toEqual(['alice', 'bob', 'carol', 'dave', 'erin']);
    expect(new Set(seen).size).toBe(5);
    const spc = await t.request('GET', '/ServiceProviderConfig');
    expect(spc.body.pagination).toMatchObject({ cursor: true, index: true });
  });

  it('walks with cursors in the sortBy order, and a cursor whose session this instance does not hold still gives its page', async () => {
    const walk = async (rewrite: (cursor: string) => string) => {
      const seen: string[] = [];
      let cursor = '';
      for (let page = 0; page < 10; page++) {
        const r = await t.request(
          'GET',
          `/Users?count=2&sortBy=userName&sortOrder=descending&cursor=${encodeURIComponent(cursor)}`,
        );
        expect(r.status).toBe(200);
        expect(r.body.totalResults).toBe(5);
        seen.push(...r.body.Resources.map((u: { userName: string }) => u.userName));
        if (!r.body.nextCursor) break;
        cursor = rewrite(r.body.nextCursor);
      }
      return seen;
    };
    const expected = ['erin', 'dave', 'carol', 'bob', 'alice'];
    expect(await walk((cursor) => cursor)).toEqual(expected);
    // The same cursors with the directory session's handle replaced, as if another bridge
    // instance (or an expired session) had issued them: the position alone answers.
    const foreign = (cursor: string) => {
      const [position, total, , key] = Buffer.from(cursor, 'base64url').toString('utf8').split('.');
      return Buffer.from(`${position}.${total}.${'x'.repeat(22)}.${key}`, 'utf8').toString('base64url');
    };
    expect(await walk(foreign)).toEqual(expected);
  });

  it('refuses a cursor from another query, a forged one, and cursor with startIndex', async () => {
    const first = await t.request('GET', '/Users?count=2&cursor=');
    const other = await t.request('GET', `/Users?count=2&sortBy=displayName&cursor=${first.body.nextCursor}`);
    expect(other.status).toBe(400);
    expect(other.body.scimType).toBe('invalidCursor');
    const forged = await t.request(
      'GET',
      `/Users?count=2&cursor=${Buffer.from('3.x').toString('base64url')}`,
    );
    expect(forged.body.scimType).toBe('invalidCursor');
    const mixed = await t.request('GET', `/Users?count=2&startIndex=2&cursor=${first.body.nextCursor}`);
    expect(mixed.status).toBe(400);
  });
});
