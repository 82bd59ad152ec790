/**
 * Records each SCIM write (not reads, not `.search`) for the admin console's overview
 * (admin/activity.ts): who, what, on which resource, the outcome and, for a refusal, the SCIM
 * error and the LDAP result behind it; and, when a recorder is given, the request itself without
 * its secrets for the mapping preview (admin/recorded-requests.ts). The records are sent after
 * the answer is settled and not waited for: a slow or missing Redis never slows or fails a write.
 */
import type { Context, Next } from 'koa';
import { type ActivityLog, ldapResultCodeOf } from '../../admin/activity.ts';
import type { RequestRecorder } from '../../admin/recorded-requests.ts';
import { ScimError } from '../../scim/errors.ts';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export interface RecordedRequests {
  readonly recorder: RequestRecorder;
  /** The secret attribute names of the mapping in service (it may be reloaded). */
  readonly secrets: () => ReadonlySet<string>;
}

export function recordActivity(
  log: ActivityLog,
  basePath: string,
  warn: (error: unknown) => void,
  requests?: RecordedRequests,
) {
  const base = basePath.toLowerCase();
  return async function activity(ctx: Context, next: Next): Promise<void> {
    if (!WRITES.has(ctx.method) || ctx.path.toLowerCase().endsWith('/.search')) return next();
    let failure: unknown;
    try {
      await next();
    } catch (error) {
      failure = error;
      throw error;
    } finally {
      const path = ctx.path.slice(base.length);
      const [resourceType = '', resourceId] = path.split('/').filter(Boolean);
      const scim = failure instanceof ScimError ? failure : undefined;
      const ldapResultCode = ldapResultCodeOf(failure);
      const at = new Date().toISOString();
      const client = (ctx.state.principal as { name?: string } | undefined)?.name ?? '';
      const status = failure === undefined ? ctx.status : (scim?.status ?? 500);
      log
        .record({
          at,
          client,
          method: ctx.method,
          resourceType,
          ...(resourceId !== undefined ? { resourceId } : {}),
          status,
          ...(scim?.scimType ? { scimType: scim.scimType } : {}),
          ...(scim ? { detail: scim.detail } : {}),
          ...(ldapResultCode !== undefined ? { ldapResultCode } : {}),
          requestId: String(ctx.state.requestId ?? ''),
        })
        .catch(warn);
      // Unauthenticated requests are not recorded: their bodies are anyone's.
      if (requests && client !== '') {
        const request = { at, client, method: ctx.method, path, status, body: ctx.state.body };
        requests.recorder.record(request, requests.secrets()).catch(warn);
      }
    }
  };
}
