/**
 * The preview of a SCIM request: what LDAP operations it would perform, without touching a
 * directory. Shared by `scim-ldap-bridge preview` and the admin console's mapping page. The real ResourceService runs against a RecordingDirectory that logs every call and
 * stores nothing: searches answer empty, except that entries looked up by id are simulated (the
 * request's target, referenced members) so writes get as far as the directory.
 */

import { escapeDnValue, isUnder } from '../lib/dn.ts';
import type { CompiledResourceType, MappingSet } from '../mapping/compiled.ts';
import { findResourceTypeByEndpoint } from '../mapping/compiled.ts';
import { idEqualsFilter } from '../mapping/filter.ts';
import { guidToBytes, guidToString } from '../mapping/transforms.ts';
import type {
  DirEntry,
  Directory,
  DirFilter,
  DirValue,
  SearchRequest,
  SearchResult,
} from '../ports/directory.ts';
import { ScimError } from '../scim/errors.ts';
import {
  type ListQuery,
  listQueryFromUrl,
  projectionFromUrl,
  queryParameters,
} from '../scim/search-request.ts';
import { type RecordedOperation, RecordingDirectory } from './recording-directory.ts';
import { searchRequestIn } from './resources/context.ts';
import { isSecretAttribute } from './resources/inspect.ts';
import { readAttributes } from './resources/read.ts';
import { ResourceService } from './resources/service.ts';

/** The id a simulated new entry gets (add) — a fixed value so previews are reproducible. */
export const PREVIEW_NEW_ID = '00000000-0000-4000-8000-000000000001';
const PREVIEW_VERSION = 'preview';

/**
 * The recording directory with nothing stored: searches that select entries by id return one
 * simulated entry per id (DN `<rdn attribute>=<id>,<base>` unless `current` gives the target).
 */
class PreviewDirectory extends RecordingDirectory {
  readonly #set: MappingSet;
  /** `current`: the request's target as it is now, returned when that id is looked up. */
  readonly #current: { id: string; entry: DirEntry } | undefined;
  readonly #version: string;

  constructor(set: MappingSet, current?: { id: string; entry: DirEntry }, version = PREVIEW_VERSION) {
    super();
    this.#set = set;
    this.#current = current;
    this.#version = version;
  }

  protected override answerSearch(request: SearchRequest): SearchResult {
    const rt = this.#set.resourceTypes.find(
      (r) => r.directory.base.toLowerCase() === request.base.toLowerCase(),
    );
    if (!rt) return { entries: [], total: 0 };
    const ids = idValues(request.filter, rt.directory.idAttribute);
    const entries = ids.map((id) => this.#simulated(rt, id));
    return { entries, total: entries.length };
  }

  #simulated(rt: CompiledResourceType, id: string): DirEntry {
    const d = rt.directory;
    const idValue: DirValue = d.binaryAttributes.includes(d.idAttribute) ? (guidToBytes(id) ?? id) : id;
    const base = {
      dn: `${d.rdnAttribute}=${escapeDnValue(id)},${d.base}`,
      attributes: {} as Record<string, DirValue[]>,
    };
    const given =
      this.#current && this.#current.id.toLowerCase() === id.toLowerCase() ? this.#current.entry : undefined;
    const entry = given ? { dn: given.dn, attributes: { ...given.attributes } } : base;
    entry.attributes[d.idAttribute.toLowerCase()] = [idValue];
    entry.attributes[d.versionAttribute.toLowerCase()] ??= [this.#version];
    return entry;
  }

  protected override answerRead(dn: string, attributes: string[]): DirEntry | undefined {
    // An existence probe (no attributes, e.g. the new parent of a move) is assumed to succeed:
    // the preview shows what would be written, not what the directory holds.
    return attributes.length === 0 ? { dn, attributes: {} } : undefined;
  }

  protected override answerAdd(dn: string, attributes: Record<string, DirValue[]>): DirEntry | undefined {
    const rt = this.#set.resourceTypes.find((r) => isUnder(dn, r.directory.base));
    const lowered: Record<string, DirValue[]> = {};
    for (const [k, v] of Object.entries(attributes)) lowered[k.toLowerCase()] = v;
    if (rt) {
      const d = rt.directory;
      lowered[d.idAttribute.toLowerCase()] = [
        d.binaryAttributes.includes(d.idAttribute) ? (guidToBytes(PREVIEW_NEW_ID) as Buffer) : PREVIEW_NEW_ID,
      ];
      lowered[d.versionAttribute.toLowerCase()] = [PREVIEW_VERSION];
    }
    return { dn, attributes: lowered };
  }

  protected override answerModify(): DirEntry | undefined {
    return undefined;
  }

  protected override answerRename(): void {}

  protected override answerDelete(): void {}
}

/** Values compared by equality with the id attribute anywhere in the filter (not under a NOT). */
function idValues(filter: DirFilter, idAttribute: string): string[] {
  const wanted = idAttribute.toLowerCase();
  switch (filter.type) {
    case 'and':
    case 'or':
      return filter.filters.flatMap((f) => idValues(f, idAttribute));
    case 'equal':
      if (filter.attribute.toLowerCase() !== wanted) return [];
      return [typeof filter.value === 'string' ? filter.value : guidToString(filter.value)];
    default:
      return [];
  }
}

export interface PreviewRequest {
  method: string;
  /** `/Users`, `/Users/<id>`, optionally with a query string (filter, startIndex, count, sortBy, ...). */
  path: string;
  body?: unknown;
  /** A SCIM filter for a list request (same as ?filter=). */
  filter?: string;
  ifMatch?: string;
  /** The target entry as it is now ({dn, attributes}), for PUT/PATCH/DELETE; simulated otherwise. */
  current?: DirEntry;
}

export interface PreviewResult {
  operations: RecordedOperation[];
  /** What the client would get: the status, and the SCIM error when the request is refused. */
  status: number;
  error?: { scimType?: string; detail: string };
}

const PREVIEW_LIMITS = {
  defaultPageSize: 100,
  maxPageSize: 1000,
  maxFilterLength: 10_000,
  maxMembersReturned: 1000,
};

export async function previewRequest(set: MappingSet, request: PreviewRequest): Promise<PreviewResult> {
  const url = new URL(request.path, 'http://preview.invalid/');
  const segments = url.pathname.split('/').filter((s) => s !== '');
  const [endpoint, id, ...extra] = segments;
  const resourceType = endpoint === undefined ? undefined : findResourceTypeByEndpoint(set, endpoint);
  if (!resourceType || extra.length > 0) {
    throw new PreviewUsageError(
      `no resource type at ${JSON.stringify(url.pathname)}; endpoints: ${set.resourceTypes.map((r) => r.endpoint).join(', ')}`,
    );
  }
  const directory = new PreviewDirectory(
    set,
    request.current && id !== undefined ? { id, entry: lowerKeys(request.current) } : undefined,
    // Simulated entries carry the version If-Match asks for, so the preview shows the assertion.
    request.ifMatch?.match(/^\s*(?:W\/)?"([^"]*)"/)?.[1],
  );
  const service = new ResourceService({
    directory,
    mappings: () => set,
    limits: PREVIEW_LIMITS,
    referenceCacheTtlMs: 0,
  });
  const target = { resourceType, id, url };
  try {
    const status = await perform(service, request, target);
    return { operations: directory.operations, status };
  } catch (error) {
    if (!(error instanceof ScimError)) throw error;
    return {
      operations: directory.operations,
      status: error.status,
      error: { ...(error.scimType ? { scimType: error.scimType } : {}), detail: error.detail },
    };
  }
}

/** Runs the request through the service; returns the status a client would get. */
async function perform(
  service: ResourceService,
  request: PreviewRequest,
  target: { resourceType: CompiledResourceType; id: string | undefined; url: URL },
): Promise<number> {
  const { resourceType, id, url } = target;
  const ctx = { baseUrl: 'http://localhost/scim/v2', actor: 'preview' };
  const precondition = request.ifMatch === undefined ? {} : { ifMatch: request.ifMatch };
  const method = request.method.toUpperCase();
  const need = (what: boolean, message: string): void => {
    if (!what) throw new PreviewUsageError(message);
  };
  if (method === 'GET' && id === undefined) {
    await service.list({ resourceType, query: usage(() => listQueryOf(url, request.filter)), ctx });
    return 200;
  }
  if (method === 'GET' && id !== undefined) {
    const projection = usage(() => projectionFromUrl(queryParameters(url.search.slice(1))));
    await service.get({ resourceType, id, projection, ctx });
    return 200;
  }
  if (method === 'POST') {
    need(id === undefined, `POST goes to ${resourceType.endpoint}, without an id`);
    need(request.body !== undefined, 'POST needs a body');
    await service.create({ resourceType, body: request.body, ctx });
    return 201;
  }
  if (method === 'PUT' || method === 'PATCH' || method === 'DELETE') {
    need(id !== undefined, `${method} needs ${resourceType.endpoint}/<id>`);
    const request_ = { resourceType, id: id as string, precondition, ctx };
    if (method === 'DELETE') {
      await service.delete(request_);
      return 204;
    }
    need(request.body !== undefined, `${method} needs a body`);
    if (method === 'PUT') await service.replace({ ...request_, body: request.body });
    else await service.patch({ ...request_, body: request.body });
    return method === 'PUT' ? 200 : resourceType.patchResponse;
  }
  throw new PreviewUsageError(`method ${request.method} is not one of GET, POST, PUT, PATCH, DELETE`);
}

/**
 * A preview against the live directory, read only: for PUT, PATCH and DELETE of `<endpoint>/<id>`
 * the target is read from `directory` first (its secrets left out), so the operations name its
 * real DN and values; nothing is written (the request runs against the recording directory).
 * `target` tells whether the entry was found or simulated.
 */
export async function previewAgainst(
  directory: Pick<Directory, 'search'>,
  set: MappingSet,
  request: Omit<PreviewRequest, 'current'>,
): Promise<PreviewResult & { target: 'directory' | 'simulated' }> {
  const current = await currentEntry(directory, set, request);
  const result = await previewRequest(set, current ? { ...request, current } : request);
  return { ...result, target: current ? 'directory' : 'simulated' };
}

async function currentEntry(
  directory: Pick<Directory, 'search'>,
  set: MappingSet,
  request: Omit<PreviewRequest, 'current'>,
): Promise<DirEntry | undefined> {
  if (!['PUT', 'PATCH', 'DELETE'].includes(request.method.toUpperCase())) return undefined;
  const segments = new URL(request.path, 'http://preview.invalid/').pathname.split('/').filter((s) => s);
  const [endpoint, id] = segments;
  const rt = endpoint === undefined ? undefined : findResourceTypeByEndpoint(set, endpoint);
  if (!rt || id === undefined || segments.length !== 2) return undefined;
  const idFilter = idEqualsFilter(rt, id);
  if (idFilter.type === 'false') return undefined;
  const found = await directory.search(
    searchRequestIn(rt, idFilter, ['*', ...readAttributes(rt, {})], { sizeLimit: 2 }),
  );
  const entry = found.entries[0];
  if (!entry) return undefined;
  const attributes = Object.fromEntries(
    Object.entries(entry.attributes).filter(([name]) => !isSecretAttribute(rt, name)),
  );
  return { dn: entry.dn, attributes };
}

export class PreviewUsageError extends Error {
  override readonly name = 'PreviewUsageError';
}

function lowerKeys(entry: DirEntry): DirEntry {
  const attributes: Record<string, DirValue[]> = {};
  for (const [k, v] of Object.entries(entry.attributes ?? {})) attributes[k.toLowerCase()] = [v].flat();
  return { dn: entry.dn, attributes };
}

/** The path's query string as the HTTP routes read it, cursor included; `--filter` overrides ?filter=. */
function listQueryOf(url: URL, filter: string | undefined): ListQuery {
  const query = listQueryFromUrl(queryParameters(url.search.slice(1)));
  return filter !== undefined ? { ...query, filter } : query;
}

/** A query parameter the server would refuse (src/scim/search-request.ts) is a usage error here. */
function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof ScimError) throw new PreviewUsageError(error.detail);
    throw error;
  }
}
