/**
 * The page contract (src/admin/page.ts) as the console core keeps it, with pages written for the
 * test and a real redis-server for sessions and the audit stream: a POST's handler gets the form
 * without the CSRF field and its audit detail is recorded; an AdminProblem is an error page with
 * its status; any other error is a 500 page that shows no internals and is logged; a redirect
 * outside /admin is never sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import { Redis } from 'ioredis';
import Koa from 'koa';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../../src/admin/audit-log.ts';
import { adminConsole } from '../../../src/admin/console.ts';
import { html } from '../../../src/admin/html.ts';
import { AdminProblem, type AdminRequest, type AdminRoute, csrfField } from '../../../src/admin/page.ts';
import { Authenticator } from '../../../src/auth/authenticator.ts';
import { SessionStore } from '../../../src/auth/sessions.ts';
import { TokenVerifier } from '../../../src/auth/tokens.ts';
import { requestOrigin } from '../../../src/http/middleware/origin.ts';
import { requestId } from '../../../src/http/middleware/request-id.ts';
import { type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';
import { ConsoleClient, csrfOf } from './helpers.ts';

const token = randomBytes(24).toString('base64url');
const logLines: string[] = [];
const handled: AdminRequest[] = [];
let server: Server;
let redisServer: RunningRedis;
let redis: Redis;
let client: ConsoleClient;

const routes: AdminRoute[] = [
  {
    method: 'GET',
    path: '/admin/things',
    nav: { label: 'Things', order: 5 },
    handle: async () => ({ kind: 'page', title: 'Things', body: html`<p>none</p>` }),
  },
  {
    method: 'GET',
    path: '/admin/things/:id',
    // A pattern cannot be a link: the navigation leaves it out.
    nav: { label: 'One thing', order: 6 },
    async handle(request) {
      if (request.params.id === 'missing') throw new AdminProblem(404, `No thing "${request.params.id}".`);
      if (request.params.id === 'broken')
        throw new Error('internal detail: ldap://10.0.0.1 password=hunter2');
      if (request.params.id === 'away') return { kind: 'redirect', location: 'https://evil.example.test/' };
      return {
        kind: 'page',
        title: `Thing ${request.params.id}`,
        body: html`<form method="post" action="/admin/things/${request.params.id}">${csrfField(request)}<label for="n">Name</label><input id="n" name="name"><button>Save</button></form>`,
      };
    },
  },
  {
    method: 'POST',
    path: '/admin/things/:id',
    audit: (request) => ({ thing: request.params.id ?? '', name: request.form.name ?? '' }),
    async handle(request) {
      handled.push(request);
      if (request.form.name === 'bad') throw new AdminProblem(400, 'A name cannot be "bad".');
      return { kind: 'redirect', location: `/admin/things/${request.params.id}` };
    },
  },
];

async function audits(): Promise<Record<string, unknown>[]> {
  const rows = await redis.xrange('test:admin-audit', '-', '+');
  return rows.map(([, fields]) => JSON.parse(fields[1] ?? '{}'));
}

beforeAll(async () => {
  redisServer = await startRedis();
  redis = new Redis(redisServer.url);
  const logger = pino({ level: 'info' }, { write: (line: string) => void logLines.push(line) });
  const verifier = new TokenVerifier([
    { name: 'ops', sha256: createHash('sha256').update(token).digest('hex') },
  ]);
  const audit = new AuditLog(redis, {
    key: 'test:admin-audit',
    maxLength: 1000,
    log: () => undefined,
    warn: () => undefined,
  });
  const app = new Koa();
  app.use(requestId);
  app.use(requestOrigin([]));
  app.use(
    adminConsole({
      sessions: new SessionStore(redis, { prefix: 'test:', idleSeconds: 600, maxSeconds: 3600 }),
      authenticator: new Authenticator(verifier),
      idps: () => [],
      routes,
      audit,
      logger,
    }),
  );
  server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const address = server.address();
  client = new ConsoleClient(`http://127.0.0.1:${address && typeof address === 'object' ? address.port : 0}`);
  expect((await client.signIn(token)).status).toBe(303);
});

afterAll(async () => {
  await new Promise((resolve) => server?.close(resolve));
  redis?.disconnect();
  await redisServer?.stop();
});

describe('the page contract', () => {
  it('wraps a page in the layout, with the route in the navigation', async () => {
    const page = await client.get('/admin/things/one');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1>Thing one</h1>');
    expect(page.text).toContain('<a href="/admin/things" aria-current="page">Things</a>');
    expect(page.text).not.toContain('One thing');
  });

  it("hands a POST's form to the handler without _csrf, audits the route's detail, redirects (303)", async () => {
    const page = await client.get('/admin/things/one');
    const answer = await client.post('/admin/things/one', { _csrf: csrfOf(page.text), name: 'renamed' });
    expect(answer.status).toBe(303);
    expect(answer.location).toBe('/admin/things/one');
    expect(handled.at(-1)?.form).toEqual({ name: 'renamed' });
    expect(handled.at(-1)?.principal).toEqual({ subject: 'ops', via: 'token' });
    expect((await audits()).at(-1)).toMatchObject({
      who: 'ops',
      action: 'POST /admin/things/one',
      detail: { thing: 'one', name: 'renamed' },
      outcome: 'ok',
      status: 303,
      from: '127.0.0.1',
    });
  });

  it('an AdminProblem from a POST is its error page, audited as refused', async () => {
    const page = await client.get('/admin/things/one');
    const answer = await client.post('/admin/things/one', { _csrf: csrfOf(page.text), name: 'bad' });
    expect(answer.status).toBe(400);
    expect(answer.text).toContain('A name cannot be &quot;bad&quot;.');
    expect((await audits()).at(-1)).toMatchObject({ outcome: 'refused', status: 400 });
  });

  it('a POST with a repeated field is a 400 and never reaches the handler', async () => {
    const page = await client.get('/admin/things/one');
    const before = handled.length;
    const csrf = csrfOf(page.text);
    const answer = await fetch(`${client.origin}/admin/things/one`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/x-www-form-urlencoded',
        Origin: client.origin,
        Cookie: client.cookieHeader,
      },
      body: `_csrf=${encodeURIComponent(csrf)}&name=a&name=b`,
      redirect: 'manual',
    });
    expect(answer.status).toBe(400);
    expect(handled.length).toBe(before);
  });

  it('an AdminProblem from a GET is an error page with its status and message', async () => {
    const answer = await client.get('/admin/things/missing');
    expect(answer.status).toBe(404);
    expect(answer.text).toContain('No thing &quot;missing&quot;.');
  });

  it('any other error is a 500 page without internals, logged with the request id', async () => {
    const answer = await client.get('/admin/things/broken');
    expect(answer.status).toBe(500);
    expect(answer.text).not.toContain('hunter2');
    expect(answer.text).not.toContain('10.0.0.1');
    const id = /request id <code>([^<]+)<\/code>/.exec(answer.text)?.[1];
    expect(id).toBeTruthy();
    expect(
      logLines.some((line) => line.includes(id ?? '-') && line.includes('admin console page failed')),
    ).toBe(true);
  });

  it('never sends a redirect outside /admin', async () => {
    const answer = await client.get('/admin/things/away');
    expect(answer.status).toBe(500);
    expect(answer.location).toBeNull();
  });
});
