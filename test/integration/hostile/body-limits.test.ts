/**
 * Hostile input, class "body limits" (issue 15, Low): every body over server.bodyLimitBytes gets a
 * SCIM 413 (RFC 7644 §3.12; RFC 9110 §15.5.14), however it is framed — with a Content-Length or
 * chunked — never a reset connection; /Bulk enforces its advertised maxPayloadSize and
 * maxOperations (RFC 7644 §3.7.4) with 413.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { BULK_REQUEST, ERROR, snapshot, USER } from './helpers.ts';

const BODY_LIMIT = 65_536;
const BULK_MAX_OPERATIONS = 10;
const BULK_MAX_PAYLOAD = 32_768;

let t: TestBridge;
let ldap: Client;

beforeAll(async () => {
  t = await startTestBridge({
    env: {
      SCIM_BRIDGE_SERVER_BODY_LIMIT_BYTES: String(BODY_LIMIT),
      SCIM_BRIDGE_LIMITS_BULK_MAX_OPERATIONS: String(BULK_MAX_OPERATIONS),
      SCIM_BRIDGE_LIMITS_BULK_MAX_PAYLOAD_BYTES: String(BULK_MAX_PAYLOAD),
    },
  });
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
});

function oversizedUser(bytes: number): string {
  return JSON.stringify({ schemas: [USER], userName: 'limits.big', title: 'x'.repeat(bytes) });
}

/**
 * POST /Users through fetch (it reads an early answer while still sending); `chunks` > 0 sends the
 * body as a stream, which fetch frames as Transfer-Encoding: chunked.
 */
async function postUsers(
  body: string,
  chunks = 0,
): Promise<{ status: number; text: string; error?: string }> {
  const bytes = new TextEncoder().encode(body);
  const size = Math.ceil(bytes.length / Math.max(chunks, 1));
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let offset = 0; offset < bytes.length; offset += size)
        controller.enqueue(bytes.subarray(offset, offset + size));
      controller.close();
    },
  });
  try {
    const response = await fetch(`${t.baseUrl}/Users`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${t.token}`, 'Content-Type': 'application/scim+json' },
      ...(chunks > 0 ? { body: stream, duplex: 'half' } : { body }),
    } as RequestInit);
    return { status: response.status, text: await response.text() };
  } catch (error) {
    return { status: 0, text: '', error: `${error} (${(error as { cause?: unknown }).cause})` };
  }
}

function expect413(r: { status: number; text: string; error?: string }): void {
  expect(r.error, 'the connection ended without an answer').toBeUndefined();
  expect(r.status, r.text.slice(0, 300)).toBe(413);
  const body = JSON.parse(r.text) as { schemas: string[]; status: string };
  expect(body.schemas).toEqual([ERROR]);
  expect(body.status).toBe('413');
}

const bulkOf = (count: number, pad = 0) => ({
  schemas: [BULK_REQUEST],
  Operations: Array.from({ length: count }, (_, i) => ({
    method: 'POST',
    path: '/Users',
    bulkId: `b${i}`,
    data: { schemas: [USER], userName: `limits.bulk${i}`, ...(pad ? { title: 'p'.repeat(pad) } : {}) },
  })),
});

describe('hostile input: body limits', () => {
  it('an over-limit body with a Content-Length is 413 and creates nothing', async () => {
    const before = await snapshot(ldap);
    expect413(await postUsers(oversizedUser(BODY_LIMIT * 2)));
    expect(await snapshot(ldap)).toEqual(before);
  });

  // issue 15: body limits — was: the connection is reset (ECONNRESET), no answer
  it('an over-limit chunked body (no Content-Length) is 413, not a reset connection', async () => {
    const before = await snapshot(ldap);
    expect413(await postUsers(oversizedUser(BODY_LIMIT * 4), 64));
    expect(await snapshot(ldap)).toEqual(before);
  });

  it('a chunked body under the limit is accepted (chunked framing stays served)', async () => {
    const r = await postUsers(JSON.stringify({ schemas: [USER], userName: 'limits.chunked' }), 4);
    expect(r.status, r.text.slice(0, 300)).toBe(201);
  });

  it('ServiceProviderConfig advertises the Bulk limits the bridge enforces', async () => {
    const r = await t.request('GET', '/ServiceProviderConfig');
    expect(r.body.bulk).toMatchObject({
      maxOperations: BULK_MAX_OPERATIONS,
      maxPayloadSize: BULK_MAX_PAYLOAD,
    });
  });

  it('a Bulk request over maxOperations is 413 and executes none of its operations', async () => {
    const before = await snapshot(ldap);
    const r = await t.request('POST', '/Bulk', bulkOf(BULK_MAX_OPERATIONS + 1));
    expect413(r);
    expect(await snapshot(ldap)).toEqual(before);
  });

  it('a Bulk request over maxPayloadSize (but under the body limit) is 413 and executes nothing', async () => {
    const before = await snapshot(ldap);
    const r = await t.request('POST', '/Bulk', bulkOf(2, BULK_MAX_PAYLOAD));
    expect413(r);
    expect(await snapshot(ldap)).toEqual(before);
  });
});
