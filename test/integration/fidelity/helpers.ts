/**
 * Shared pieces of the round-trip fidelity tables (issue 14): schema URNs, request builders and
 * the checks that compare what a client sent with what it reads back. Black-box: everything here
 * talks HTTP to a bridge started by `startTestBridge`, or reads the directory with the root client.
 */
import { expect, it } from 'vitest';
import type { ScimResponse, TestBridge } from '../../harness/bridge.ts';

export const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
export const GROUP = 'urn:ietf:params:scim:schemas:core:2.0:Group';
export const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
export const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
export const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';

export type Json = Record<string, unknown>;

/** A row of a table of cases; `fails` marks a defect of today (issue 14), run with `it.fails`. */
export interface Row {
  label: string;
  fails?: boolean;
}

/**
 * One test per row: `it.fails` for a row marked `fails`, so the suite stays green while the defect
 * lasts and turns red the day it is fixed (then drop the mark); `it` for the others.
 */
export function eachRow<T extends Row>(
  table: readonly T[],
  test: (row: T) => Promise<void>,
  suffix = '',
): void {
  for (const row of table) (row.fails ? it.fails : it)(`${row.label}${suffix}`, () => test(row));
}

export function patchBody(...operations: Json[]): Json {
  return { schemas: [PATCH_OP], Operations: operations };
}

/** `GET path?filter=...` with the filter encoded. */
export function filtered(endpoint: string, filter: string, extra = ''): string {
  return `${endpoint}?filter=${encodeURIComponent(filter)}${extra}`;
}

/** POST a resource and hand back its id; fails the test when the bridge refuses it. */
export async function create(t: TestBridge, endpoint: string, body: Json): Promise<string> {
  const r = await t.request('POST', endpoint, body);
  expect(r.status, `POST ${endpoint}: ${r.text}`).toBe(201);
  return r.body.id as string;
}

/**
 * A SCIM error as RFC 7644 §3.12 shapes it, with one of the expected scimTypes, a detail that
 * names `mentions` (case-insensitively) and carries no untranslated LDAP result text.
 */
export function expectScimError(
  r: ScimResponse,
  status: number,
  scimTypes: string[],
  mentions?: string,
): void {
  expect(r.status, r.text).toBe(status);
  expect(r.body?.schemas).toEqual([ERROR]);
  expect(r.body.status).toBe(String(status));
  if (scimTypes.length > 0) expect(scimTypes).toContain(r.body.scimType);
  expect(r.body.detail).toEqual(expect.any(String));
  if (mentions) expect(String(r.body.detail).toLowerCase()).toContain(mentions.toLowerCase());
  expect(r.body.detail).not.toMatch(/LDAP result|result code|\bresult \d+\b/i);
}

/** The members a resource carries that the server adds to every representation (RFC 7643 §3.1). */
const SERVER_MEMBERS = new Set(['id', 'meta', 'schemas']);

/**
 * Paths (`name.familyName`, `emails`, ...) present in `read` that the client never sent in `sent`.
 * Multi-valued attributes compare as wholes: an element the client did not send, or an empty list
 * it never sent, is an extra. `allow` names paths the server may add by a declared default.
 */
export function extrasIn(read: Json, sent: Json, allow: string[] = []): string[] {
  const extras: string[] = [];
  walk(read, sent, '', extras);
  return extras.filter((path) => !allow.includes(path));
}

function walk(read: Json, sent: Json, prefix: string, extras: string[]): void {
  const sentKeys = new Map(Object.keys(sent).map((k) => [k.toLowerCase(), k]));
  for (const [key, value] of Object.entries(read)) {
    if (!prefix && SERVER_MEMBERS.has(key)) continue;
    const path = prefix ? `${prefix}.${key}` : key;
    const sentKey = sentKeys.get(key.toLowerCase());
    const sentValue = sentKey === undefined ? undefined : sent[sentKey];
    if (sentValue === undefined) extras.push(path);
    else if (isObject(value) && isObject(sentValue)) walk(value, sentValue, path, extras);
    else if (Array.isArray(value) && Array.isArray(sentValue)) {
      if (!sameElements(value, sentValue)) extras.push(path);
    }
  }
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Elements equal as sets of objects, each read element carrying exactly the sent members. */
function sameElements(read: unknown[], sent: unknown[]): boolean {
  if (read.length !== sent.length) return false;
  const key = (v: unknown) => JSON.stringify(sortKeys(v));
  const sentKeys = sent.map(key).sort();
  return read
    .map(key)
    .sort()
    .every((k, i) => k === sentKeys[i]);
}

function sortKeys(value: unknown): unknown {
  if (!isObject(value)) return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((k) => [k, sortKeys(value[k])]),
  );
}

/**
 * What a client sent, all of it read back: `read` contains `sent` (schemas aside), so a value that
 * was lost or changed shows as a difference in the assertion's diff.
 */
export function expectContains(read: Json, sent: Json): void {
  const { schemas: _schemas, ...rest } = sent;
  expect(read).toMatchObject(rest);
}
