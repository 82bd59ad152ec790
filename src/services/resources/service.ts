/**
 * Use cases for any mapped resource type (Users, Groups, custom): get, list, create, replace,
 * patch, delete, and the saga and recovery hooks of the change journal. Generic over the
 * mapping; no LDAP attribute name appears here. Each call takes one request object; the work is
 * done by the use-case modules of this folder over one shared ServiceContext.
 */
import type { MappingSet } from '../../mapping/compiled.ts';
import type { Directory } from '../../ports/directory.ts';
import type { ChangeJournal, SagaOutcome } from '../../ports/events.ts';
import type { ListResult } from '../../scim/list-response.ts';
import type { ListQuery } from '../../scim/search-request.ts';
import { ReferenceCache } from '../reference-cache.ts';
import {
  type Limits,
  type RequestContext,
  type ResourceResult,
  type ServiceContext,
  withinRequest,
} from './context.ts';
import { type InspectedEntry, type InspectRequest, inspectEntry } from './inspect.ts';
import { type DeleteRequest, deleteResource, probeEntry, settleProvisioning } from './lifecycle.ts';
import { type ListRequest, listAllResources, listResources } from './list.ts';
import { type PatchRequest, patchResource } from './patch.ts';
import { type GetRequest, getResource } from './read.ts';
import { type CreateRequest, createResource, type ReplaceRequest, replaceResource } from './write.ts';

export interface ResourceServiceDeps {
  directory: Directory;
  mappings: () => MappingSet;
  limits: Limits;
  /** Where committed changes are recorded for delivery to external services; absent: no events. */
  journal?: ChangeJournal;
  /** How long a resolved reference DN (a group in a user's memberOf) may be reused; 0 disables. */
  referenceCacheTtlMs?: number;
}

export class ResourceService {
  readonly #svc: ServiceContext;

  constructor(deps: ResourceServiceDeps) {
    this.#svc = {
      directory: deps.directory,
      mappings: deps.mappings,
      limits: deps.limits,
      journal: deps.journal,
      references: new ReferenceCache(deps.referenceCacheTtlMs ?? 10_000, 10_000),
    };
  }

  /**
   * Starts recording committed changes in `journal`. For main.ts: the events runtime that owns
   * the journal calls back into this service (sagas, recovery probes), so the service is built
   * first and given the journal once both exist, before any request is served.
   */
  attachJournal(journal: ChangeJournal): void {
    this.#svc.journal = journal;
  }

  /** Another instance wrote these entries (undefined: writes may have been missed): cached references go. */
  forgetReferences(dns: readonly string[] | undefined): void {
    if (dns) for (const dn of dns) this.#svc.references.forget(dn);
    else this.#svc.references.clear();
  }

  get(request: GetRequest): Promise<ResourceResult> {
    return getResource(withinRequest(this.#svc, request.ctx), request);
  }

  /** The directory entry behind a resource and the resource it reads as (the admin console). */
  inspect(request: InspectRequest): Promise<InspectedEntry> {
    return inspectEntry(withinRequest(this.#svc, request.ctx), request);
  }

  list(request: ListRequest): Promise<ListResult> {
    return listResources(withinRequest(this.#svc, request.ctx), request);
  }

  /** A query at the server root, across every resource type (RFC 7644 §3.4.2.1, §3.4.3). */
  listAll(request: { query: ListQuery; ctx: RequestContext }): Promise<ListResult> {
    return listAllResources(withinRequest(this.#svc, request.ctx), request);
  }

  create(request: CreateRequest): Promise<ResourceResult> {
    return createResource(withinRequest(this.#svc, request.ctx), request);
  }

  replace(request: ReplaceRequest): Promise<ResourceResult> {
    return replaceResource(withinRequest(this.#svc, request.ctx), request);
  }

  patch(request: PatchRequest): Promise<ResourceResult> {
    return patchResource(withinRequest(this.#svc, request.ctx), request);
  }

  delete(request: DeleteRequest): Promise<void> {
    return deleteResource(withinRequest(this.#svc, request.ctx), request);
  }

  /** Settles a finished provisioning saga (enable, or compensate); see lifecycle.ts. */
  settleProvisioning(outcome: SagaOutcome, compensation: 'disable' | 'delete'): Promise<void> {
    return settleProvisioning(this.#svc, outcome, compensation);
  }

  /** The id and version of the entry at `dn`, for the journal's recovery. */
  probe(resourceType: string, dn: string): Promise<{ id: string; version?: string } | undefined> {
    return probeEntry(this.#svc, resourceType, dn);
  }
}
