/**
 * `/Me` (RFC 7644 §3.11): the resource of the authenticated subject. The bridge's clients are
 * provisioning services whose tokens name no directory entry, so it is not supported: every method
 * answers 501, as §3.11 asks, after authentication like every SCIM route.
 */
import type { Router } from '@koa/router';
import { ScimError } from '../../scim/errors.ts';

export function registerMeRoutes(router: Router): void {
  // Registered before the resource routes, which would read "Me" as a resource type's endpoint.
  router.all('/Me{/*rest}', (ctx) => {
    ctx.state.routeName = `${ctx.method} /Me`;
    throw ScimError.notImplemented(
      '/Me is not supported (RFC 7644 §3.11): this service provisions directory entries; address them at their resource type endpoint',
    );
  });
}
