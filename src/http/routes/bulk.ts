/** POST /Bulk (RFC 7644 §3.7). Limits are advertised in /ServiceProviderConfig and enforced here. */
import type { Router } from '@koa/router';
import type { Logger } from 'pino';
import type { Principal } from '../../auth/tokens.ts';
import type { MappingSet } from '../../mapping/compiled.ts';
import { ScimError } from '../../scim/errors.ts';
import { executeBulk } from '../../services/bulk.ts';
import type { ResourceService } from '../../services/resources/service.ts';
import { bulkOperationCheck } from '../middleware/scopes.ts';
import { baseUrlOf, sendScim } from '../respond.ts';

export interface BulkRoutesDeps {
  logger?: Logger;
  resources: ResourceService;
  mappings: () => MappingSet;
  maxOperations: number;
  maxPayloadSize: number;
  basePath: string;
  publicBaseUrl?: string;
}

export function registerBulkRoutes(router: Router, deps: BulkRoutesDeps): void {
  router.post('/Bulk', async (ctx) => {
    ctx.state.routeName = 'POST /Bulk';
    const size = Number(ctx.state.bodyBytes ?? 0);
    // RFC 7644 §3.7.4: a request over maxPayloadSize gets 413.
    if (size > deps.maxPayloadSize) {
      throw ScimError.payloadTooLarge(
        `the bulk request has ${size} bytes; maxPayloadSize is ${deps.maxPayloadSize}`,
      );
    }
    if (ctx.state.body === undefined) throw ScimError.invalidSyntax('a BulkRequest body is required');
    const principal = ctx.state.principal as Principal;
    const result = await executeBulk(
      ctx.state.body,
      deps.resources,
      deps.mappings(),
      { maxOperations: deps.maxOperations },
      {
        baseUrl: baseUrlOf(ctx, deps.basePath, deps.publicBaseUrl),
        actor: principal.name,
        deadlineAt: ctx.state.deadlineAt as number | undefined,
      },
      {
        onUnexpected: (error, index) =>
          deps.logger?.error(
            { err: error, requestId: ctx.state.requestId, operation: index },
            'unexpected error in a bulk operation',
          ),
        // Each operation needs the scope its single request would (docs/architecture.md §Scopes).
        gate: bulkOperationCheck(principal),
      },
    );
    sendScim(ctx, 200, result);
  });
}
