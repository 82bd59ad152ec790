/**
 * The last SCIM write requests, for the mapping preview's "pick a recorded request" (issue 20):
 * method, path under the SCIM base and the JSON body with every secret removed, in a capped
 * Redis stream shared by every instance. A secret is `password` and any attribute the mapping
 * marks writeOnly or returned never (RFC 7643 §7, §4.1.1): its key is dropped wherever it occurs
 * and a PATCH operation whose path names it loses its value. Bodies over MAX_RECORDED_BODY are
 * not kept (a cut JSON text could not be previewed); the request is listed without one.
 */
import type { Redis } from 'ioredis';
import type { MappingSet } from '../mapping/compiled.ts';

/** Longest body kept, in characters of JSON: what the preview's GET form can carry back. */
export const MAX_RECORDED_BODY = 8000;
/**
 * Longest body kept once URL-encoded: the preview form is a GET, and Node takes a request head of
 * at most 16 KiB, so a loaded body must still fit when the form sends it back.
 */
const MAX_ENCODED_BODY = 12_000;
/** What stands where a removed secret was in a PATCH operation. */
export const REMOVED = '(removed)';

export interface RecordedRequest {
  /** The stream entry's id (`1733370000000-0`), by which the preview loads it. */
  readonly id: string;
  /** ISO 8601. */
  readonly at: string;
  readonly client: string;
  readonly method: string;
  /** Under the SCIM base (`/Users/123`), as the preview takes it. */
  readonly path: string;
  readonly status: number;
  /** The body as JSON text without secrets; absent when there was none or it was too long. */
  readonly body?: string;
  /** Why the body is absent although the request had one. */
  readonly bodyOmitted?: string;
}

const secretsBySet = new WeakMap<MappingSet, ReadonlySet<string>>();

/**
 * Names (lower case, RFC 7643 §2.1: case-insensitive) of the attributes that are secret in this
 * mapping, worked out once per mapping set (a hot reload makes a new one).
 */
export function secretAttributeNames(mappings: MappingSet): ReadonlySet<string> {
  const known = secretsBySet.get(mappings);
  if (known) return known;
  const names = new Set(['password']);
  for (const rt of mappings.resourceTypes) {
    for (const rule of rt.rules) {
      const def = rule.leafDefinition;
      if (def.returned !== 'never' && def.mutability !== 'writeOnly') continue;
      names.add((rule.subAttribute ?? rule.attribute).toLowerCase());
      if (!rule.subAttribute) names.add(rule.attribute.toLowerCase());
    }
  }
  secretsBySet.set(mappings, names);
  return names;
}

/** The attribute a PATCH path ends on: `password`, `name.givenName` → givenname, `urn:...:User:x` → x. */
function lastAttributeOf(path: string): string {
  const withoutFilter = path.replace(/\[[^\]]*\]/g, '');
  const afterUrn = withoutFilter.includes(':')
    ? withoutFilter.slice(withoutFilter.lastIndexOf(':') + 1)
    : withoutFilter;
  return (afterUrn.split('.').pop() ?? '').toLowerCase();
}

/** A copy of a JSON value without the secret keys (anywhere, any case) or secret PATCH values. */
export function withoutSecrets(value: unknown, secrets: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutSecrets(item, secrets));
  if (value === null || typeof value !== 'object') return value;
  const source = value as Record<string, unknown>;
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(source)) {
    // An extension's key is its URN; its attributes are inside and checked there.
    if (!key.includes(':') && secrets.has(key.toLowerCase())) continue;
    copy[key] = withoutSecrets(item, secrets);
  }
  if (typeof source.path === 'string' && 'value' in source && secrets.has(lastAttributeOf(source.path))) {
    copy.value = REMOVED;
  }
  return copy;
}

export class RequestRecorder {
  readonly #redis: Redis;
  readonly #key: string;
  readonly #maxLength: number;

  constructor(redis: Redis, options: { key: string; maxLength: number }) {
    this.#redis = redis;
    this.#key = options.key;
    this.#maxLength = options.maxLength;
  }

  /** Adds a request (its body already parsed; undefined when it had none); rejects when Redis cannot take it. */
  async record(
    request: { at: string; client: string; method: string; path: string; status: number; body: unknown },
    secrets: ReadonlySet<string>,
  ): Promise<void> {
    const { body, ...head } = request;
    const kept = body === undefined ? {} : keptBody(withoutSecrets(body, secrets));
    const fields = JSON.stringify({ ...head, ...kept });
    // An exact MAXLEN: the stream is short, and `~` would not trim below a radix node (100 entries).
    await this.#redis.xadd(this.#key, 'MAXLEN', String(this.#maxLength), '*', 'r', fields);
  }

  /** The newest `count` requests, newest first. */
  async recent(count: number): Promise<RecordedRequest[]> {
    const rows = await this.#redis.xrevrange(this.#key, '+', '-', 'COUNT', count);
    return rows.flatMap(([id, fields]) => parsed(id, fields));
  }

  /** One request by its id; undefined when it was trimmed away or never was. */
  async get(id: string): Promise<RecordedRequest | undefined> {
    if (!/^\d{1,20}-\d{1,20}$/.test(id)) return undefined;
    const rows = await this.#redis.xrange(this.#key, id, id);
    const [row] = rows;
    return row ? parsed(row[0], row[1])[0] : undefined;
  }
}

/** The body as indented JSON when that fits the preview form, else compact, else why it was left out. */
function keptBody(body: unknown): { body: string } | { bodyOmitted: string } {
  const fits = (text: string) =>
    text.length <= MAX_RECORDED_BODY && encodeURIComponent(text).length <= MAX_ENCODED_BODY;
  const indented = JSON.stringify(body, null, 2);
  if (fits(indented)) return { body: indented };
  const compact = JSON.stringify(body);
  if (fits(compact)) return { body: compact };
  return { bodyOmitted: `${compact.length} characters, more than the preview form can carry` };
}

function parsed(id: string, fields: string[]): RecordedRequest[] {
  try {
    if (fields[0] !== 'r' || fields[1] === undefined) return [];
    return [{ ...(JSON.parse(fields[1]) as Omit<RecordedRequest, 'id'>), id }];
  } catch {
    return [];
  }
}
