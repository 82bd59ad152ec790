/** RFC 7644 §4 discovery endpoints, generated from the loaded mappings. */
import type { Router } from '@koa/router';
import type { Context } from 'koa';
import type { MappingSet } from '../../mapping/compiled.ts';
import {
  type DiscoveryOptions,
  etagSupported,
  resourceTypeById,
  resourceTypes,
  schemaById,
  schemas,
  serviceProviderConfig,
} from '../../services/discovery.ts';
import { baseUrlOf, sendScim } from '../respond.ts';

export interface DiscoveryRoutesDeps {
  mappings: () => MappingSet;
  options: DiscoveryOptions;
  basePath: string;
  publicBaseUrl?: string;
}

export function registerDiscoveryRoutes(router: Router, deps: DiscoveryRoutesDeps): void {
  const base = (ctx: Context) => baseUrlOf(ctx, deps.basePath, deps.publicBaseUrl);
  const named = (ctx: Context, name: string) => {
    ctx.state.routeName = `${ctx.method} ${name}`;
  };
  router.get('/ServiceProviderConfig', async (ctx) => {
    named(ctx, '/ServiceProviderConfig');
    sendScim(ctx, 200, serviceProviderConfig(base(ctx), deps.options, await etagSupported(deps.options)));
  });
  router.get('/ResourceTypes', (ctx) => {
    named(ctx, '/ResourceTypes');
    sendScim(ctx, 200, resourceTypes(deps.mappings(), base(ctx)));
  });
  router.get('/ResourceTypes/:id', (ctx) => {
    named(ctx, '/ResourceTypes/{id}');
    sendScim(ctx, 200, resourceTypeById(deps.mappings(), String(ctx.params.id), base(ctx)));
  });
  router.get('/Schemas', (ctx) => {
    named(ctx, '/Schemas');
    sendScim(ctx, 200, schemas(deps.mappings(), base(ctx)));
  });
  router.get('/Schemas/:id', (ctx) => {
    named(ctx, '/Schemas/{id}');
    sendScim(ctx, 200, schemaById(deps.mappings(), String(ctx.params.id), base(ctx)));
  });
}
