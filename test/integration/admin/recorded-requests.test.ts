/**
 * The preview's recorded requests against a whole bridge (its own slapd and Redis), through the
 * console over HTTP: a SCIM PATCH appears on the Users preview page, loads into the form and
 * previews; a POST with a password (top level, in an extension-free PATCH value, under a PATCH
 * path) is recorded without it — neither the Redis stream nor any page holds it.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { ConsoleClient } from './helpers.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const PASSWORD = 'Recorded-Secret-Pa55word!';
const PATCH_PASSWORD = 'Patched-Secret-Pa55word!';
const VALUE_PASSWORD = 'Value-Secret-Pa55word!';
const STREAM = 'scim-bridge:recorded-requests';

let t: TestBridge;
let admin: ConsoleClient;
let redis: Redis;

beforeAll(async () => {
  t = await startTestBridge({ env: { SCIM_BRIDGE_ADMIN_RECORDED_REQUESTS: '5' } });
  admin = new ConsoleClient(t.bridge.url);
  expect((await admin.signIn(t.token)).status).toBe(303);
  redis = new Redis(t.bridge.local?.redis?.url ?? '');
});

afterAll(async () => {
  redis?.disconnect();
  await t?.stop();
});

async function streamText(): Promise<string> {
  return (await redis.xrange(STREAM, '-', '+')).map(([, fields]) => fields[1]).join('\n');
}

/** The "Load" links of the Users preview page's recorded requests, newest first. */
function loadLinks(html: string): string[] {
  return [...html.matchAll(/<a href="(\/admin\/mappings\/Users\/preview\?recorded=[^"]+)"/g)].map((m) =>
    (m[1] ?? '').replace(/&amp;/g, '&'),
  );
}

describe('recorded SCIM requests in the preview', () => {
  it('a PATCH is listed, loads into the form and previews as an LDAP modify', async () => {
    const found = await t.request('GET', `/Users?filter=${encodeURIComponent('userName eq "alice"')}`);
    const id = found.body.Resources[0].id as string;
    const patch = {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'title', value: 'Recorded Title' }],
    };
    expect((await t.request('PATCH', `/Users/${id}`, patch)).status).toBe(200);
    // Then back, so that previewing the recorded PATCH has something to change (newest first: [1]).
    const back = { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Back Again' }] };
    expect((await t.request('PATCH', `/Users/${id}`, back)).status).toBe(200);

    const listed = await admin.get('/admin/mappings/Users/preview');
    expect(listed.status).toBe(200);
    expect(listed.text).toContain(`PATCH /Users/${id}`);
    const [, link] = loadLinks(listed.text);
    expect(link).toBeDefined();

    const loaded = await admin.get(link as string);
    expect(loaded.status).toBe(200);
    expect(loaded.text).toMatch(/<option selected>PATCH<\/option>/);
    expect(loaded.text).toContain(`value="/Users/${id}"`);
    expect(loaded.text).toContain('Recorded Title');
    const body = /<textarea id="preview-body"[^>]*>([\s\S]*?)<\/textarea>/.exec(loaded.text)?.[1] ?? '';
    const json = body
      .replace(/&quot;/g, '"')
      .replace(/&#39;/g, "'")
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&amp;/g, '&');
    expect(JSON.parse(json)).toEqual(patch);

    // Submitting the loaded form: the fields as the browser sends them.
    const previewed = await admin.get(
      `/admin/mappings/Users/preview?${new URLSearchParams({ method: 'PATCH', path: `/Users/${id}`, body: json })}`,
    );
    expect(previewed.status).toBe(200);
    expect(previewed.text).toContain('replace: title\ntitle: Recorded Title');
  });

  it('a POST and PATCHes with passwords are recorded without them', async () => {
    const created = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'recorded.pw',
      password: PASSWORD,
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    const byPath = {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', path: 'password', value: PATCH_PASSWORD }],
    };
    expect((await t.request('PATCH', `/Users/${id}`, byPath)).status).toBe(200);
    const byValue = {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value: { PassWord: VALUE_PASSWORD } }],
    };
    expect((await t.request('PATCH', `/Users/${id}`, byValue)).status).toBe(200);

    const stream = await streamText();
    expect(stream).toContain('recorded.pw');
    expect(stream).toContain('(removed)');
    for (const secret of [PASSWORD, PATCH_PASSWORD, VALUE_PASSWORD]) expect(stream).not.toContain(secret);

    const listed = await admin.get('/admin/mappings/Users/preview');
    const pages = [listed.text];
    for (const link of loadLinks(listed.text)) pages.push((await admin.get(link)).text);
    expect(pages.join('\n')).toContain('recorded.pw');
    for (const secret of [PASSWORD, PATCH_PASSWORD, VALUE_PASSWORD])
      expect(pages.join('\n')).not.toContain(secret);
  });

  it('a body the preview form could not carry back is listed without it', async () => {
    const long = 'x'.repeat(9000);
    await t.request('POST', '/Users', { schemas: [USER], userName: 'recorded.long', displayName: long });
    const newest = (await redis.xrevrange(STREAM, '+', '-', 'COUNT', 1))[0]?.[1][1] ?? '';
    expect(newest).toContain('"bodyOmitted"');
    expect(newest).not.toContain(long);
    const listed = await admin.get('/admin/mappings/Users/preview');
    expect(listed.text).toContain('body left out');
    const loaded = await admin.get(loadLinks(listed.text)[0] as string);
    expect(loaded.status).toBe(200);
    expect(loaded.text).toMatch(/<textarea id="preview-body"[^>]*><\/textarea>/);
  });

  it('keeps only the configured number of requests', async () => {
    for (let i = 0; i < 7; i++) {
      expect(
        (await t.request('POST', '/Users', { schemas: [USER], userName: `recorded.cap.${i}` })).status,
      ).toBe(201);
    }
    await new Promise((r) => setTimeout(r, 100));
    expect(await redis.xlen(STREAM)).toBe(5);
  });

  it('a recorded id that is not there, or not a stream id, is a 404 page', async () => {
    for (const id of ['1-0', '<script>', '99999999999999-0']) {
      const answer = await admin.get(`/admin/mappings/Users/preview?recorded=${encodeURIComponent(id)}`);
      expect(answer.status).toBe(404);
      expect(answer.text).not.toContain('<script>');
    }
  });
});
