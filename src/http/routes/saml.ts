/** GET /saml/metadata: the bridge's SP metadata (auth/saml/sp-metadata.ts), unauthenticated like any metadata. */
import type { Router } from '@koa/router';

export function registerSamlRoutes(router: Router, metadataXml: string): void {
  router.get('/saml/metadata', (ctx) => {
    ctx.state.routeName = 'GET /saml/metadata';
    // SAML metadata §4.1.1 media type.
    ctx.type = 'application/samlmetadata+xml';
    ctx.body = metadataXml;
  });
}
