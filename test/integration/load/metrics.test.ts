/**
 * /metrics (issue 17): Prometheus text format behind its own bearer token; the scrape is parsed
 * here and checked for names, labels and histograms that moved with the requests in between.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const METRICS_TOKEN = 'metrics-token-for-the-test-0123';

let t: TestBridge;

beforeAll(async () => {
  t = await startTestBridge({ env: { SCIM_BRIDGE_METRICS_TOKEN: METRICS_TOKEN } });
});
afterAll(async () => {
  await t?.stop();
});

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** Parses the Prometheus text exposition format (comments skipped; label values unescaped). */
function parse(text: string): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match) throw new Error(`not a sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) {
      labels[label[1] as string] = (label[2] as string).replace(/\\(.)/g, (_, c: string) =>
        c === 'n' ? '\n' : c,
      );
    }
    samples.push({ name: match[1] as string, labels, value: Number(match[3]) });
  }
  return samples;
}

async function scrape(token = METRICS_TOKEN): Promise<{ status: number; type: string; samples: Sample[] }> {
  const response = await fetch(`${t.bridge.url}/metrics`, { headers: { Authorization: `Bearer ${token}` } });
  const text = await response.text();
  return {
    status: response.status,
    type: response.headers.get('content-type') ?? '',
    samples: response.status === 200 ? parse(text) : [],
  };
}

function sum(samples: Sample[], name: string, match: (labels: Record<string, string>) => boolean): number {
  return samples.filter((s) => s.name === name && match(s.labels)).reduce((total, s) => total + s.value, 0);
}

describe('/metrics', () => {
  it('refuses a scrape without the metrics token, and a SCIM token does not open it', async () => {
    const none = await fetch(`${t.bridge.url}/metrics`);
    expect(none.status).toBe(401);
    expect((await scrape('wrong-token-wrong-token')).status).toBe(401);
    expect((await scrape(t.token)).status).toBe(401);
  });

  it('serves the Prometheus text format with request, LDAP, pool and process metrics that move', async () => {
    const before = await scrape();
    expect(before.status).toBe(200);
    expect(before.type).toMatch(/^text\/plain; version=0\.0\.4/);

    const lists = 5;
    for (let n = 0; n < lists; n++) expect((await t.request('GET', '/Users?count=2')).status).toBe(200);
    expect((await t.request('GET', '/Users/not-an-id')).status).toBe(404);

    const after = await scrape();
    const isUserList = (l: Record<string, string>) =>
      l.method === 'GET' && l.status === '200' && /Users/.test(l.route ?? '');
    const countOf = (samples: Sample[]) =>
      sum(samples, 'scim_http_request_duration_seconds_count', isUserList);
    expect(countOf(after.samples) - countOf(before.samples)).toBe(lists);
    // The histogram's buckets moved too: the +Inf bucket counts every request.
    const infOf = (samples: Sample[]) =>
      sum(samples, 'scim_http_request_duration_seconds_bucket', (l) => isUserList(l) && l.le === '+Inf');
    expect(infOf(after.samples) - infOf(before.samples)).toBe(lists);
    const notFound = sum(
      after.samples,
      'scim_http_request_duration_seconds_count',
      (l) => l.status === '404',
    );
    expect(notFound).toBeGreaterThanOrEqual(1);

    const ldapSearches = (samples: Sample[]) =>
      sum(
        samples,
        'scim_ldap_operation_duration_seconds_count',
        (l) => l.operation === 'search' && l.result === 'success',
      );
    expect(ldapSearches(after.samples)).toBeGreaterThan(ldapSearches(before.samples));

    const pool = after.samples.filter((s) => s.name === 'scim_ldap_pool');
    expect(pool.map((s) => s.labels.state).sort()).toEqual([
      'connections',
      'cursorSessions',
      'inFlight',
      'retiring',
      'waiting',
    ]);
    expect(sum(after.samples, 'scim_ldap_pool', (l) => l.state === 'connections')).toBeGreaterThan(0);
    expect(after.samples.some((s) => s.name === 'scim_http_requests_in_flight')).toBe(true);
    expect(after.samples.some((s) => s.name === 'nodejs_eventloop_lag_seconds')).toBe(true);
  });

  it('counts idempotent writes: executed first, replayed after', async () => {
    const before = await scrape();
    const body = { schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'metrics.idem' };
    const first = await t.request('POST', '/Users', body, { 'Idempotency-Key': 'metrics-1' });
    const again = await t.request('POST', '/Users', body, { 'Idempotency-Key': 'metrics-1' });
    expect([first.status, again.status]).toEqual([201, 201]);
    const after = await scrape();
    const outcome = (samples: Sample[], name: string) =>
      sum(samples, 'scim_idempotency_requests_total', (l) => l.outcome === name);
    expect(outcome(after.samples, 'executed') - outcome(before.samples, 'executed')).toBe(1);
    expect(outcome(after.samples, 'replayed') - outcome(before.samples, 'replayed')).toBe(1);
  });
});
