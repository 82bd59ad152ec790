/**
 * Shared tools of the hostile-input suite (issue 15): SCIM message URNs, a raw HTTP client for what
 * fetch will not send (a Host header, a chunked or cut-off body, raw bytes), an event-loop stall
 * meter, a directory snapshot to prove a refused request changed nothing, and SIGSTOP helpers.
 *
 * Every test in the suite is black-box: it talks HTTP to a bridge started by startTestBridge and
 * checks the directory with a raw root client. The bridge runs in this process, so this process's
 * event loop is the bridge's: a stall the meter sees is a stall every other client would see.
 */
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Client } from 'ldapts';
import type { ScimResponse, TestBridge } from '../../harness/bridge.ts';

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const BULK_REQUEST = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
export const SUFFIX = 'dc=example,dc=com';
export const PEOPLE = `ou=People,${SUFFIX}`;

export interface Measured<T> {
  result: T;
  /** Wall time of the whole call. */
  ms: number;
  /** Longest single event-loop delay seen while it ran (monitorEventLoopDelay, 1 ms resolution). */
  maxStallMs: number;
}

/** Runs `work` while sampling the event loop; reports the longest delay seen and the wall time. */
export async function measured<T>(work: () => Promise<T>): Promise<Measured<T>> {
  const histogram = monitorEventLoopDelay({ resolution: 1 });
  histogram.enable();
  const started = performance.now();
  try {
    const result = await work();
    return { result, ms: performance.now() - started, maxStallMs: histogram.max / 1e6 };
  } finally {
    histogram.disable();
  }
}

/** What the server answered, for assertion messages: status, scimType, detail excerpt, time. */
export function said(r: { status: number; text: string }, ms?: number): string {
  const time = ms === undefined ? '' : ` in ${Math.round(ms)} ms`;
  return `answered ${r.status}${time}: ${r.text.replace(/\s+/g, ' ').slice(0, 240)}`;
}

/** A SCIM error body per RFC 7644 §3.12: the Error schema, the status as a string, maybe a scimType. */
export function expectScimError(
  r: ScimResponse,
  status: number,
  scimType?: string,
): { schemas: string[]; status: string; scimType?: string; detail?: string } {
  const body = r.body as { schemas?: string[]; status?: string; scimType?: string; detail?: string };
  if (r.status !== status || body?.status !== String(status) || !body.schemas?.includes(ERROR)) {
    throw new Error(`expected a SCIM ${status} error, got ${r.status}: ${r.text.slice(0, 300)}`);
  }
  if (scimType !== undefined && body.scimType !== scimType) {
    throw new Error(`expected scimType ${scimType}, got ${body.scimType}: ${r.text.slice(0, 300)}`);
  }
  return body as { schemas: string[]; status: string; scimType?: string; detail?: string };
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  /** Set when the connection ended without a response (reset, closed). */
  error?: string;
}

export interface RawRequest {
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: Buffer | string;
  /** Stop writing after this many bytes and destroy the socket (a client that gives up). */
  abortAfterBytes?: number;
  timeoutMs?: number;
}

/**
 * node:http, not fetch: fetch forbids setting Host and cannot be cut off halfway through a body. No Authorization is added unless `t` is given.
 */
export function raw(t: TestBridge | undefined, baseUrl: string, request: RawRequest): Promise<RawResponse> {
  const url = new URL(`${baseUrl}${request.path}`);
  const body = typeof request.body === 'string' ? Buffer.from(request.body, 'utf8') : request.body;
  return new Promise((resolve) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: `${url.pathname}${url.search}`,
        method: request.method,
        headers: {
          ...(t ? { Authorization: `Bearer ${t.token}` } : {}),
          ...(body ? { 'Content-Type': 'application/scim+json' } : {}),
          ...request.headers,
        },
        timeout: request.timeoutMs ?? 15_000,
      },
      (res) => {
        const parts: Buffer[] = [];
        res.on('data', (part: Buffer) => parts.push(part));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text: Buffer.concat(parts).toString(),
          }),
        );
        res.on('error', (error) =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text: '', error: error.message }),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error('client timeout')));
    req.on('error', (error) => resolve({ status: 0, headers: {}, text: '', error: error.message }));
    if (!body) {
      req.end();
      return;
    }
    if (request.abortAfterBytes !== undefined) {
      req.write(body.subarray(0, request.abortAfterBytes));
      setTimeout(() => req.destroy(), 200);
      return;
    }
    req.end(body);
  });
}

/** Every entry under the suffix with its user attributes, as sorted text: equal snapshots, same directory. */
export async function snapshot(ldap: Client): Promise<string[]> {
  const { searchEntries } = await ldap.search(SUFFIX, {
    scope: 'sub',
    filter: '(objectClass=*)',
    attributes: ['*'],
  });
  return searchEntries
    .map((entry) => {
      const attributes = Object.entries(entry)
        .filter(([name]) => name !== 'dn')
        .map(([name, value]) => `${name.toLowerCase()}=${JSON.stringify([value].flat().map(String).sort())}`)
        .sort();
      return `${entry.dn.toLowerCase()} ${attributes.join(' ')}`;
    })
    .sort();
}

/** Whether a People entry has this uid (checked in the directory, not through the bridge). */
export async function uidExists(ldap: Client, uid: string): Promise<boolean> {
  const { searchEntries } = await ldap.search(PEOPLE, {
    scope: 'one',
    filter: `(uid=${uid.replace(/[\\*()\0]/g, (c) => `\\${c.charCodeAt(0).toString(16).padStart(2, '0')}`)})`,
    attributes: ['uid'],
  });
  return searchEntries.length > 0;
}

/** SIGSTOPs `pid` around `work` (SIGCONT in every case), after the kernel reports it stopped. */
export async function whileStopped<T>(pid: number, work: () => Promise<T>): Promise<T> {
  process.kill(pid, 'SIGSTOP');
  try {
    await stopped(pid);
    return await work();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

/** Waits (bounded) until the kernel reports the process stopped, so no request races the signal. */
async function stopped(pid: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // state is the field after the parenthesised command name (proc(5))
    if (/\) [Tt] /.test(stat)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`process ${pid} did not stop`);
}

/** Creates a user through the API and returns its id. */
export async function createUser(
  t: TestBridge,
  userName: string,
  extra: Record<string, unknown> = {},
): Promise<string> {
  const r = await t.request('POST', '/Users', { schemas: [USER], userName, ...extra });
  if (r.status !== 201) throw new Error(`creating ${userName}: ${r.status} ${r.text.slice(0, 300)}`);
  return r.body.id as string;
}

/** The id of a sample user by userName. */
export async function idOf(t: TestBridge, userName: string): Promise<string> {
  const r = await t.request(
    'GET',
    `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}&attributes=id`,
  );
  const id = r.body?.Resources?.[0]?.id as string | undefined;
  if (!id) throw new Error(`no user ${userName}: ${r.status} ${r.text.slice(0, 300)}`);
  return id;
}
