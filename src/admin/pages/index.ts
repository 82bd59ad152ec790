/**
 * The console's working pages (issue 20): mappings with their preview, resources, deliveries.
 * Each reads through the same use cases as the SCIM service and the CLI; what they need is named
 * here as narrow interfaces, which src/start-admin.ts fills from the running bridge.
 */
import type { JobsAdmin } from '../../jobs/admin.ts';
import type { MappingStore } from '../../mapping/reload.ts';
import type { Directory } from '../../ports/directory.ts';
import type { ResourceService } from '../../services/resources/service.ts';
import type { AdminRoute } from '../page.ts';
import type { RequestRecorder } from '../recorded-requests.ts';
import { deliveryRoutes } from './deliveries.ts';
import { mappingRoutes } from './mappings.ts';
import { previewRoutes } from './preview.ts';
import { resourceRoutes } from './resources.ts';

/** The mapping directory in service, its problems and its last hot reload. */
export type MappingsView = Pick<MappingStore, 'dir' | 'current' | 'problems' | 'lastReload'>;

/** The delivery queues (the CLI's `jobs`). */
export type DeliveriesAdmin = Pick<
  JobsAdmin,
  'services' | 'stats' | 'list' | 'eventsOf' | 'retry' | 'retryAllFailed' | 'replay'
>;

export interface AdminPagesDeps {
  mappings: MappingsView;
  /** Reads only: the console never writes a resource. */
  resources: Pick<ResourceService, 'get' | 'list' | 'inspect'>;
  /** Read by the preview to find a PUT/PATCH/DELETE's target; never written. */
  directory: Pick<Directory, 'search'>;
  /** Absent when events are not enabled. */
  deliveries?: DeliveriesAdmin;
  /** The last SCIM write requests, without secrets, for the preview; absent: none kept. */
  recorded?: Pick<RequestRecorder, 'recent' | 'get'>;
  /** The SCIM base URL, for the resources' `location` and `$ref`. */
  scimBaseUrl: string;
}

export function adminPages(deps: AdminPagesDeps): AdminRoute[] {
  return [...mappingRoutes(deps), ...previewRoutes(deps), ...resourceRoutes(deps), ...deliveryRoutes(deps)];
}
