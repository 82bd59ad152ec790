/**
 * The pages through the real console over HTTP (a signed-in session, its CSRF token): refusals
 * are error pages with the detail escaped, a retry without the CSRF token changes nothing, a
 * retry with it is performed, redirected and audited.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { ConsoleClient, csrfOf } from '../admin/helpers.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';
import { until } from './pages.ts';

const SECRET = 'admin-pages-http-secret-0123456';
const HOSTILE = '<script>alert(1)</script>';

let t: TestBridge;
let receiver: Receiver;
let client: ConsoleClient;
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'admin-pages-http-'));
  cpSync('mappings/openldap', dir, { recursive: true });
  receiver = await startReceiver(SECRET);
  t = await startTestBridge({
    seed: 'empty',
    env: {
      SCIM_BRIDGE_MAPPINGS_DIR: dir,
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([{ name: 'hook', url: receiver.url, secret: SECRET }]),
    },
  });
  client = new ConsoleClient(t.bridge.url);
  expect((await client.signIn(t.token)).status).toBe(303);
});

afterAll(async () => {
  await t?.stop();
  await receiver?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('the pages behind the console', () => {
  it.each([
    [
      'a malformed filter',
      400,
      `/admin/resources/Users?filter=${encodeURIComponent(`userName eq ${HOSTILE}`)}`,
    ],
    ['a DN with markup', 400, `/admin/mappings/Users/entry?ref=${encodeURIComponent(`cn=${HOSTILE},,`)}`],
    [
      'a preview body with markup that is not JSON',
      400,
      `/admin/mappings/Users/preview?method=POST&path=/Users&body=${encodeURIComponent(HOSTILE)}`,
    ],
    ['a resource type with markup', 404, `/admin/resources/${encodeURIComponent(HOSTILE)}`],
  ])('%s is an error page with status %s and the markup escaped', async (_, status, path) => {
    const answer = await client.get(path);
    expect(answer.status).toBe(status);
    expect(answer.text).not.toContain('<script>');
    expect(answer.text).toContain('&lt;script&gt;');
    expect(answer.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(answer.headers.get('content-security-policy')).not.toContain('unsafe-inline');
  });

  it('a retry without the CSRF token is refused and performs nothing; with it, it is performed and audited', async () => {
    receiver.mode = 400;
    const created = await t.request('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'],
      userName: 'http-jane',
    });
    const id = created.body.id as string;
    const overview = await until(
      () => client.get('/admin/deliveries'),
      (answer) => answer.text.includes(id),
    );
    const jobId = /name="jobId" value="([^"]+)"/.exec(overview.text)?.[1] as string;
    receiver.mode = 200;

    const forged = await client.post('/admin/deliveries/hook/retry', { jobId });
    expect(forged.status).toBe(403);
    await new Promise((r) => setTimeout(r, 300));
    expect(receiver.accepted().some((d) => d.eventId === jobId)).toBe(false);
    expect((await client.get('/admin/deliveries')).text).toContain('Dead letters (1)');

    const retried = await client.post('/admin/deliveries/hook/retry', {
      _csrf: csrfOf(overview.text),
      jobId,
    });
    expect(retried.status).toBe(303);
    expect(retried.location).toBe('/admin/deliveries/hook?retried=1');
    await receiver.waitFor(() => receiver.accepted().some((d) => d.eventId === jobId), 10_000, 'the retry');

    const audit = await client.get('/admin/audit');
    expect(audit.text).toContain('deliveries.retry');
    expect(audit.text).toContain(jobId);
  });

  it("the mapping page follows the bridge's own hot reload", async () => {
    expect((await client.get('/admin/mappings/Users')).text).toContain('<td><code>title</code></td>');
    const file = join(dir, 'users.yaml');
    const original = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      original.replace('  title: { ldap: title, orderingRule: caseIgnoreOrderingMatch }\n', ''),
    );
    const reloaded = await until(
      () => client.get('/admin/mappings/Users'),
      (answer) => answer.status === 200 && !answer.text.includes('<td><code>title</code></td>'),
    );
    expect(reloaded.text).toContain('valid, in service');
    expect(reloaded.text).toContain('<td><code>displayName</code></td>');
    // The bridge serves what the page shows.
    const schema = await t.request('GET', '/Schemas/urn:ietf:params:scim:schemas:core:2.0:User');
    expect((schema.body.attributes as { name: string }[]).map((a) => a.name)).not.toContain('title');
  });
});
