/**
 * Records each SCIM write (not reads, not `.search`) for the admin console's overview
 * (admin/activity.ts): who, what, on which resource, the outcome and, for a refusal, the SCIM
 * error and the LDAP result behind it. The record is sent after the answer is settled and not
 * waited for: a slow or missing Redis never slows or fails a write.
 */
import type { Context, Next } from 'koa';
import { type ActivityLog, ldapResultCodeOf } from '../../admin/activity.ts';
import { ScimError } from '../../scim/errors.ts';

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function recordActivity(log: ActivityLog, basePath: string, warn: (error: unknown) => void) {
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
      const [resourceType = '', resourceId] = ctx.path.slice(base.length).split('/').filter(Boolean);
      const scim = failure instanceof ScimError ? failure : undefined;
      const ldapResultCode = ldapResultCodeOf(failure);
      log
        .record({
          at: new Date().toISOString(),
          client: (ctx.state.principal as { name?: string } | undefined)?.name ?? '',
          method: ctx.method,
          resourceType,
          ...(resourceId !== undefined ? { resourceId } : {}),
          status: failure === undefined ? ctx.status : (scim?.status ?? 500),
          ...(scim?.scimType ? { scimType: scim.scimType } : {}),
          ...(scim ? { detail: scim.detail } : {}),
          ...(ldapResultCode !== undefined ? { ldapResultCode } : {}),
          requestId: String(ctx.state.requestId ?? ''),
        })
        .catch(warn);
    }
  };
}
