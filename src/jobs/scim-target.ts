/**
 * A SCIM 2.0 service downstream (events.services kind `scim`): the worker provisions the users
 * and groups it hears of into it (RFC 7644 §3.3 POST, §3.5.2 PATCH, §3.6 DELETE), with its bearer
 * token. The ids the service assigns are kept in Redis (one hash per service, by resource type and
 * the bridge's id), and member ids are translated through them. Events carry names, not values,
 * so each delivery reads the resource as it stands now (ResourceSource): a delivery retried later
 * sends the latest state, which is what converges.
 */
import type { Redis } from 'ioredis';
import type { ChangeEvent, ResourceSource } from '../ports/events.ts';
import { DeliveryError, parseRetryAfter, unreachable } from './webhooks.ts';

const SCIM_JSON = 'application/scim+json';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
/** Attributes the bridge computes or that are read-only downstream too (RFC 7643 §3.1, §4.1.2). */
const NOT_SENT = new Set(['id', 'meta', 'groups']);

export interface ScimTarget {
  service: string;
  /** Base URL of the SCIM service (…/scim/v2). */
  url: string;
  token: string;
  timeoutMs: number;
  redis: Redis;
  keyPrefix: string;
  source: ResourceSource;
}

export function scimIdsKey(keyPrefix: string, service: string): string {
  return `${keyPrefix}events:scim-ids:${service}`;
}

/** The endpoint of a resource type at the target: User -> /Users, Group -> /Groups. */
function endpointOf(resourceType: string): string {
  return `/${resourceType}s`;
}

async function call(
  target: ScimTarget,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: Record<string, unknown> | undefined }> {
  let response: Response;
  try {
    response = await fetch(`${target.url.replace(/\/$/, '')}${path}`, {
      method,
      redirect: 'manual',
      signal: AbortSignal.timeout(target.timeoutMs),
      headers: {
        Authorization: `Bearer ${target.token}`,
        Accept: SCIM_JSON,
        'User-Agent': 'scim-ldap-bridge',
        ...(body !== undefined ? { 'Content-Type': SCIM_JSON } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  } catch (error) {
    throw unreachable(error, target.timeoutMs);
  }
  const text = await response.text().catch(() => '');
  let json: Record<string, unknown> | undefined;
  try {
    const parsed: unknown = text ? JSON.parse(text) : undefined;
    json = parsed && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    json = undefined;
  }
  const status = response.status;
  if ((status >= 200 && status < 300) || status === 404) return { status, json };
  const detail = typeof json?.detail === 'string' ? `: ${json.detail.slice(0, 300)}` : '';
  const scimType = typeof json?.scimType === 'string' ? ` (${json.scimType})` : '';
  const what = `${method} ${path} answered ${status}${scimType}${detail}`;
  if (status === 408 || status === 429 || status >= 500) {
    const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
    throw new DeliveryError(what, {
      status,
      permanent: false,
      ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
    });
  }
  throw new DeliveryError(`${what}; not retried`, { status, permanent: true });
}

/**
 * The resource as the target gets it: no id/meta, references as the target's ids, and how many
 * members the target does not know yet (left out: the delivery is retried until they are there).
 */
async function outgoing(target: ScimTarget, resource: Record<string, unknown>, bridgeId: string) {
  const body: Record<string, unknown> = { externalId: bridgeId };
  for (const [key, value] of Object.entries(resource)) if (!NOT_SENT.has(key)) body[key] = value;
  let missing = 0;
  if (Array.isArray(resource.members)) {
    const members = await remoteMembers(target, resource.members);
    body.members = members.known;
    missing = members.missing;
  }
  return { body, missing };
}

async function remoteMembers(target: ScimTarget, members: readonly unknown[]) {
  const local = members.flatMap((m) => {
    const member = m as { value?: unknown; type?: unknown };
    if (typeof member.value !== 'string') return [];
    return [{ id: member.value, type: typeof member.type === 'string' ? member.type : 'User' }];
  });
  if (local.length === 0) return { known: [], missing: 0 };
  const key = scimIdsKey(target.keyPrefix, target.service);
  const remote = await target.redis.hmget(key, ...local.map((m) => `${m.type}:${m.id}`));
  const known = remote.flatMap((id) => (id ? [{ value: id }] : []));
  return { known, missing: local.length - known.length };
}

/** One event provisioned into the target; resolves on success, throws DeliveryError otherwise. */
export async function provision(target: ScimTarget, event: ChangeEvent): Promise<number> {
  const key = scimIdsKey(target.keyPrefix, target.service);
  const field = `${event.resourceType}:${event.resourceId}`;
  const remoteId = await target.redis.hget(key, field);
  const endpoint = endpointOf(event.resourceType);
  if (event.change === 'deleted') {
    if (!remoteId) return 204;
    const { status } = await call(target, 'DELETE', `${endpoint}/${encodeURIComponent(remoteId)}`);
    await target.redis.hdel(key, field);
    return status;
  }
  const resource = await target.source(event.resourceType, event.resourceId);
  // Gone since: its deleted event follows and removes it downstream.
  if (!resource) return 204;
  const { body, missing } = await outgoing(target, resource, event.resourceId);
  const status = await write(target, event, remoteId, body);
  // Members provisioned later (their events run in parallel): this delivery is retried with
  // backoff and sends them once the target knows them; up to events.maxAttempts.
  if (missing > 0)
    throw new DeliveryError(`${missing} member(s) not provisioned at the target yet; retried`, {
      permanent: false,
    });
  return status;
}

/** PATCH when the target holds it (POST again when it lost it), POST otherwise; the target's id kept. */
async function write(
  target: ScimTarget,
  event: ChangeEvent,
  remoteId: string | null,
  body: Record<string, unknown>,
): Promise<number> {
  const key = scimIdsKey(target.keyPrefix, target.service);
  const field = `${event.resourceType}:${event.resourceId}`;
  const endpoint = endpointOf(event.resourceType);
  if (remoteId) {
    // Replace every attribute the bridge holds, and remove the ones the event names that it no longer holds.
    const removed = event.changedAttributes.filter(
      (name) => !name.includes(':') && !((name.split('.')[0] as string) in body),
    );
    const { externalId: _, schemas: __, ...value } = body;
    const patched = await call(target, 'PATCH', `${endpoint}/${encodeURIComponent(remoteId)}`, {
      schemas: [PATCH_OP],
      Operations: [{ op: 'replace', value }, ...removed.map((path) => ({ op: 'remove', path }))],
    });
    if (patched.status !== 404) return patched.status;
    // The target lost it: created again below.
    await target.redis.hdel(key, field);
  }
  const created = await call(target, 'POST', endpoint, body);
  const id = typeof created.json?.id === 'string' ? created.json.id : undefined;
  if (created.status === 404 || !id)
    throw new DeliveryError(`POST ${endpoint} answered ${created.status} without an id; not retried`, {
      status: created.status,
      permanent: true,
    });
  await target.redis.hset(key, field, id);
  return created.status;
}
