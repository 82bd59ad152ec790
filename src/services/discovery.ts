/**
 * Discovery endpoints (RFC 7644 §4): /ServiceProviderConfig, /ResourceTypes and /Schemas, all
 * generated from the loaded mappings, so they list exactly what is mapped.
 */
import type { CompiledResourceType, MappingSet } from '../mapping/compiled.ts';
import { ScimError } from '../scim/errors.ts';
import { LIST_RESPONSE_SCHEMA } from '../scim/list-response.ts';
import type { SchemaDefinition } from '../scim/schema-types.ts';

const SPC_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig';
const RT_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:ResourceType';
const SCHEMA_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Schema';

export interface DiscoveryOptions {
  maxPageSize: number;
  defaultPageSize: number;
  bulk: { supported: boolean; maxOperations: number; maxPayloadSize: number };
  /** Most operations in one PATCH request, advertised as patch.maxOperations (not in RFC 7643 §5). */
  patchMaxOperations?: number;
  documentationUri?: string;
  /**
   * Whether conditional writes (If-Match) can be honoured atomically: the directory offers the
   * assertion control (RFC 4528). Absent: assumed.
   */
  conditionalWrites?: () => Promise<boolean>;
}

/**
 * `etag.supported` (RFC 7643 §5) for the directory behind the bridge: true only where If-Match
 * writes are honoured atomically. Active Directory and 389-DS have no assertion control, and a
 * read-then-write check would not be atomic, so there the bridge serves versions (meta.version,
 * ETag, If-None-Match → 304) but refuses If-Match writes (403) and says `false` here, since the
 * flag is one for both (docs/architecture.md §ETags and preconditions).
 */
export async function etagSupported(options: DiscoveryOptions): Promise<boolean> {
  if (!options.conditionalWrites) return true;
  // Unknown (the directory does not answer right now): the design's default, not a guess of false.
  return options.conditionalWrites().catch(() => true);
}

export function serviceProviderConfig(
  baseUrl: string,
  options: DiscoveryOptions,
  etag = true,
): Record<string, unknown> {
  return {
    schemas: [SPC_SCHEMA],
    ...(options.documentationUri ? { documentationUri: options.documentationUri } : {}),
    patch: {
      supported: true,
      ...(options.patchMaxOperations ? { maxOperations: options.patchMaxOperations } : {}),
    },
    bulk: options.bulk,
    filter: { supported: true, maxResults: options.maxPageSize },
    changePassword: { supported: true },
    sort: { supported: true },
    // RFC 9865: cursors as well as startIndex. Cursors do not expire: they carry their position, and
    // the directory's paged-results session behind one only makes its next page cheaper.
    pagination: {
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: options.defaultPageSize,
      maxPageSize: options.maxPageSize,
    },
    etag: { supported: etag },
    authenticationSchemes: [
      {
        type: 'oauthbearertoken',
        name: 'OAuth Bearer Token',
        description: 'Authentication with a bearer token issued by the bridge operator (RFC 6750).',
        specUri: 'https://www.rfc-editor.org/rfc/rfc6750',
        primary: true,
      },
    ],
    meta: { resourceType: 'ServiceProviderConfig', location: `${baseUrl}/ServiceProviderConfig` },
  };
}

export function resourceTypeResource(rt: CompiledResourceType, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [RT_SCHEMA],
    id: rt.name,
    name: rt.name,
    endpoint: rt.endpoint,
    description: rt.description,
    schema: rt.coreSchema.id,
    schemaExtensions: rt.extensions.map((e) => ({ schema: e.schema.id, required: e.required })),
    meta: { resourceType: 'ResourceType', location: `${baseUrl}/ResourceTypes/${rt.name}` },
  };
}

export function schemaResource(schema: SchemaDefinition, baseUrl: string): Record<string, unknown> {
  return {
    schemas: [SCHEMA_SCHEMA],
    ...schema,
    meta: { resourceType: 'Schema', location: `${baseUrl}/Schemas/${schema.id}` },
  };
}

export function listOf(resources: Record<string, unknown>[]): Record<string, unknown> {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: resources.length,
    startIndex: 1,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

export function resourceTypes(set: MappingSet, baseUrl: string): Record<string, unknown> {
  return listOf(set.resourceTypes.map((rt) => resourceTypeResource(rt, baseUrl)));
}

export function resourceTypeById(set: MappingSet, id: string, baseUrl: string): Record<string, unknown> {
  const rt = set.resourceTypes.find((r) => r.name.toLowerCase() === id.toLowerCase());
  if (!rt) throw ScimError.notFound(`resource type "${id}" not found`);
  return resourceTypeResource(rt, baseUrl);
}

export function schemas(set: MappingSet, baseUrl: string): Record<string, unknown> {
  return listOf(set.schemas.map((s) => schemaResource(s, baseUrl)));
}

export function schemaById(set: MappingSet, id: string, baseUrl: string): Record<string, unknown> {
  const schema = set.schemas.find((s) => s.id.toLowerCase() === id.toLowerCase());
  if (!schema) throw ScimError.notFound(`schema "${id}" not found`);
  return schemaResource(schema, baseUrl);
}
