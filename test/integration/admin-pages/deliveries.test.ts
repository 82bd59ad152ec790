/**
 * The deliveries pages against a running bridge (real Redis queues, a real webhook receiver on
 * loopback): a 400 from the receiver makes a dead letter, shown with its last error and attempts;
 * the retry form's POST queues it again and it is delivered; replay delivers it once more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { htmlText } from '../../../src/admin/html.ts';
import { deliveryRoutes } from '../../../src/admin/pages/deliveries.ts';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';
import { CSRF, type Pages, pageHtml, pagesFor, until } from './pages.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SECRET = 'admin-deliveries-secret-0123456';

let t: TestBridge;
let pages: Pages;
let receiver: Receiver;

beforeAll(async () => {
  receiver = await startReceiver(SECRET);
  t = await startTestBridge({
    seed: 'empty',
    env: {
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([{ name: 'hook', url: receiver.url, secret: SECRET }]),
      SCIM_BRIDGE_EVENTS_BACKOFF_BASE_MS: '50',
    },
  });
  pages = pagesFor(t);
});

afterAll(async () => {
  pages?.close();
  await t?.stop();
  await receiver?.close();
});

describe('deliveries', () => {
  it('shows a dead letter with its last error, retries it by the form, then replays it', async () => {
    receiver.mode = 400;
    const created = await t.request('POST', '/Users', { schemas: [USER], userName: 'dl-henry' });
    const id = created.body.id as string;
    const overview = await until(
      () => pages.get('/admin/deliveries').then(pageHtml),
      (html) => html.includes(id),
    );
    expect(overview).toContain('Dead letters (1)');
    expect(overview).toMatch(/<td class="bad">[^<]*400[^<]*<\/td>/);
    const jobId = /name="jobId" value="([^"]+)"/.exec(overview)?.[1] as string;
    expect(jobId).toBeDefined();
    // Every form carries the session's CSRF token.
    expect(overview).toContain(`name="_csrf" value="${CSRF}"`);
    expect(overview).toContain('action="/admin/deliveries/hook/retry"');

    const service = pageHtml(await pages.get('/admin/deliveries/hook'));
    expect(service).toMatch(
      /<th scope="row"><a href="\/admin\/deliveries\/hook">hook<\/a><\/th>\s*<td>0<\/td><td>0<\/td><td>0<\/td>\s*<td class="bad">1<\/td>/,
    );

    receiver.mode = 200;
    const retried = await pages.post('/admin/deliveries/hook/retry', { _csrf: CSRF, jobId });
    expect(retried).toEqual({ kind: 'redirect', location: '/admin/deliveries/hook?retried=1' });
    await receiver.waitFor(
      () => receiver.accepted().some((d) => d.eventId === jobId),
      10_000,
      'the retried delivery',
    );
    const after = pageHtml(await pages.get('/admin/deliveries/hook?retried=1'));
    expect(after).toContain('1 job(s) retried');
    expect(after).toContain('Dead letters (0)');

    const replayed = await pages.post('/admin/deliveries/hook/replay', { _csrf: CSRF, eventId: jobId });
    expect(replayed).toEqual({ kind: 'redirect', location: '/admin/deliveries/hook?replayed=1' });
    await receiver.waitFor(
      () => receiver.requests.filter((d) => d.eventId === jobId && d.status === 200).length === 2,
      10_000,
      'the replayed delivery',
    );
  });

  it('a retry of a job that is not dead-lettered says nothing was retried', async () => {
    const outcome = await pages.post('/admin/deliveries/hook/retry', { _csrf: CSRF, jobId: 'no-such-job' });
    expect(outcome).toEqual({ kind: 'redirect', location: '/admin/deliveries/hook?retried=0' });
    expect(pageHtml(await pages.get('/admin/deliveries/hook?retried=0'))).toContain('Nothing retried');
  });

  it.each([
    ['an empty job id', 400, '/admin/deliveries/hook/retry', { jobId: '' }],
    ['a job id with markup and spaces', 400, '/admin/deliveries/hook/retry', { jobId: '<script> x' }],
    ['an event id too long', 400, '/admin/deliveries/hook/replay', { eventId: 'e'.repeat(201) }],
    ['an unknown service', 404, '/admin/deliveries/%3Cb%3E/retry', { jobId: 'x' }],
  ])('%s is a %s', async (_, status, path, form) => {
    const outcome = await pages.post(path, { _csrf: CSRF, ...form });
    expect(outcome).toMatchObject({ kind: 'problem', status });
  });

  it('the retry and replay routes describe themselves for the audit log', () => {
    const retry = pages.routes.find(
      (r) => r.method === 'POST' && r.path === '/admin/deliveries/:service/retry',
    );
    const request = {
      method: 'POST' as const,
      path: '/admin/deliveries/hook/retry',
      params: { service: 'hook' },
      query: new URLSearchParams(),
      form: { jobId: 'job-1' },
      principal: { subject: 'a', via: 'token' as const },
      csrfToken: CSRF,
      requestId: 'r',
      clientIp: '127.0.0.1',
    };
    expect(retry?.audit?.(request)).toEqual({ action: 'deliveries.retry', service: 'hook', job: 'job-1' });
    expect(pages.routes.filter((r) => r.method === 'POST').every((r) => r.audit !== undefined)).toBe(true);
  });

  it('without events the page says they are off', async () => {
    const overview = deliveryRoutes({}).find((r) => r.path === '/admin/deliveries');
    const page = await overview?.handle({
      method: 'GET',
      path: '/admin/deliveries',
      params: {},
      query: new URLSearchParams(),
      form: {},
      principal: { subject: 'a', via: 'token' },
      csrfToken: CSRF,
      requestId: 'r',
      clientIp: '127.0.0.1',
    });
    expect(page?.kind === 'page' && htmlText(page.body)).toContain('Events are not enabled');
  });
});
