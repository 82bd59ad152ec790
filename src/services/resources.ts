/**
 * Use cases for any mapped resource type (Users, Groups, custom): get, list, create, replace,
 * patch, delete. Generic over the mapping; no LDAP attribute name appears here.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { CompiledResourceType, CompiledRule, MappingSet } from '../mapping/compiled.ts';
import {
  allReadAttributes,
  attributesForAdd,
  changesForReplace,
  dnForResource,
  entryId,
  entryToResource,
  normalizeDn,
  type ReferenceValue,
  readAttributeNames,
  readsForward,
  referenceIds,
  resourceToAttributes,
  type ScimObject,
  sameDn,
  valuesForRule,
  valueText,
  withMissingObjectClasses,
} from '../mapping/convert.ts';
import { idEqualsFilter, simplify, translateFilter } from '../mapping/filter.ts';
import { parentDn } from '../mapping/ldap-text.ts';
import type {
  DirChange,
  DirEntry,
  Directory,
  DirFilter,
  SearchRequest,
  SearchResult,
  SortKey,
} from '../ports/directory.ts';
import { NotFoundError, TooManyResultsError, UnavailableError } from '../ports/errors.ts';
import type {
  ChangeEvent,
  ChangeEventType,
  ChangeIntent,
  ChangeJournal,
  SagaOutcome,
} from '../ports/events.ts';
import { canonicalizeResource } from '../scim/canonicalize.ts';
import { ScimError } from '../scim/errors.ts';
import { parseFilter } from '../scim/filter.ts';
import { applyPatch, memberDelta, parsePatchRequest } from '../scim/patch.ts';
import { isReturned, type Projection, projectSubAttributes } from '../scim/projection.ts';
import { toScimError } from './errors.ts';
import { type CachedReference, ReferenceCache } from './reference-cache.ts';

/** Lists usually this small (a user's groups) are read with one plain search; larger ones are paged. */
const UNPAGED_SEARCH_LIMIT = 100;
/** LDAP attributes read for an unprojected resource, per compiled resource type (a reload makes new ones). */
const defaultReadAttributes = new WeakMap<CompiledResourceType, string[]>();

export const LIST_RESPONSE_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';

export interface RequestContext {
  /** Absolute SCIM base URL, e.g. http://127.0.0.1:8080/scim/v2 (for Location and $ref). */
  baseUrl: string;
  /** Who is asking (token name), for logs and events. */
  actor: string;
}

export interface Limits {
  defaultPageSize: number;
  maxPageSize: number;
  maxFilterLength: number;
  /** Upper bound on member values read for one group in one response. */
  maxMembersReturned: number;
}

/** What a write's response needs: a projection (`attributes`), or no body at all (204). */
export interface ResponseShape {
  projection?: Projection;
  body?: boolean;
}

/** A precondition from If-Match (RFC 7644 §3.14); '*' means "exists". */
export type Precondition = { ifMatch?: string };

export interface ResourceResult {
  resource: ScimObject;
  version?: string;
  location: string;
}

export interface ListQuery extends Projection {
  filter?: string;
  startIndex?: number;
  count?: number;
  sortBy?: string;
  sortOrder?: 'ascending' | 'descending';
  /** RFC 9865 cursor paging: "" for the first page, then a nextCursor from the previous page. */
  cursor?: string;
}

export interface ListResult {
  schemas: [typeof LIST_RESPONSE_SCHEMA];
  totalResults: number;
  startIndex?: number;
  itemsPerPage: number;
  /** RFC 9865: present when cursor paging was asked for and more results follow. */
  nextCursor?: string;
  previousCursor?: string;
  Resources: ScimObject[];
}

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
  readonly #deps: ResourceServiceDeps;
  readonly #referenceCache: ReferenceCache;

  constructor(deps: ResourceServiceDeps) {
    this.#deps = deps;
    this.#referenceCache = new ReferenceCache(deps.referenceCacheTtlMs ?? 10_000, 10_000);
  }

  get #directory(): Directory {
    return this.#deps.directory;
  }

  async get(
    rt: CompiledResourceType,
    id: string,
    projection: Projection,
    ctx: RequestContext,
  ): Promise<ResourceResult> {
    return this.#guard(rt, async () => {
      const entry = await this.#findById(rt, id, readAttributes(rt, projection));
      if (!entry) throw notFound(rt, id);
      return this.#toResult(rt, entry, projection, ctx);
    });
  }

  async list(rt: CompiledResourceType, query: ListQuery, ctx: RequestContext): Promise<ListResult> {
    return this.#guard(rt, async () => {
      const { limits } = this.#deps;
      // RFC 7644 §3.4.2.4: startIndex < 1 is 1; count < 0 is 0; count is capped by the server.
      // RFC 9865: a cursor stands for a position in the same query; it may not be mixed with startIndex.
      if (query.cursor !== undefined && query.startIndex !== undefined) {
        throw ScimError.badRequest('cursor and startIndex cannot be used together (RFC 9865 §2)');
      }
      // Only cursor paging needs the query's digest (a hash per list request otherwise).
      const queryKey = query.cursor !== undefined ? cursorQueryKey(rt, query) : '';
      const cursor = query.cursor !== undefined ? decodeCursor(query.cursor, queryKey) : undefined;
      const startIndex = cursor ? cursor.position : Math.max(1, Math.trunc(query.startIndex ?? 1));
      const count = Math.min(
        Math.max(0, Math.trunc(query.count ?? limits.defaultPageSize)),
        limits.maxPageSize,
      );
      let filter: DirFilter = { type: 'true' };
      if (query.filter !== undefined) {
        const ast = parseFilter(query.filter, { maxLength: limits.maxFilterLength });
        filter = await translateFilter(rt, ast, { resolveId: (types, id) => this.#resolveDn(types, id) });
      }
      const selective = isSelective(rt, filter);
      // Without sortBy the order is the server's choice (RFC 7644 §3.4.2.3): a selective query
      // (a few entries at most) skips the directory's sort; any other keeps the default order so
      // that pages are stable.
      // A cursor walk without sortBy follows the directory's own order: its pages after the first
      // come from one paged search (RFC 2696), which needs no sort of the whole result.
      const sort = (selective || cursor) && !query.sortBy ? undefined : this.#sortKeys(rt, query);
      const combined = simplify({ type: 'and', filters: [rt.directory.scopeFilter, filter] });
      const projection: Projection = {
        ...(query.attributes ? { attributes: query.attributes } : {}),
        ...(query.excludedAttributes ? { excludedAttributes: query.excludedAttributes } : {}),
      };
      if (combined.type === 'false') return listResult([], 0, startIndex);
      const result = await this.#directory.search({
        base: rt.directory.base,
        scope: rt.directory.scope,
        filter: combined,
        attributes: readAttributes(rt, projection),
        binaryAttributes: rt.directory.binaryAttributes,
        ...(sort ? { sort } : {}),
        page: cursor
          ? {
              kind: 'cursor',
              startIndex,
              count,
              ...(cursor.session ? { session: cursor.session } : {}),
              ...(cursor.total !== undefined ? { total: cursor.total } : {}),
              // The first page counts the matches: the default order lets the directory count
              // them with VLV even when the walk is unsorted.
              ...(cursor.total === undefined && !sort ? { countOrder: this.#sortKeys(rt, query) } : {}),
            }
          : { kind: 'offset', startIndex, count },
        ...(selective && !cursor ? { expectFew: true } : {}),
      });
      const resources = await Promise.all(
        result.entries.map(async (entry) => (await this.#toResult(rt, entry, projection, ctx)).resource),
      );
      const total = result.total ?? resources.length;
      if (!cursor) return listResult(resources, total, startIndex);
      const next = startIndex + resources.length;
      const previous = Math.max(1, startIndex - count);
      return {
        schemas: [LIST_RESPONSE_SCHEMA],
        totalResults: total,
        itemsPerPage: resources.length,
        ...(resources.length > 0 && next <= total
          ? { nextCursor: encodeCursor({ position: next, total, session: result.session }, queryKey) }
          : {}),
        // A previous page is never a session's next one: it comes from the offset path.
        ...(startIndex > 1 ? { previousCursor: encodeCursor({ position: previous, total }, queryKey) } : {}),
        Resources: resources,
      };
    });
  }

  /**
   * A query at the server root (RFC 7644 §3.4.2.1, §3.4.3): every resource type, one directory
   * query each. Results come grouped by resource type (in /ResourceTypes order), sorted within
   * each type; startIndex and count apply to the whole sequence. A type whose mapping cannot
   * express the filter matches nothing; if no type can, the filter is refused.
   */
  async listAll(query: ListQuery, ctx: RequestContext): Promise<ListResult> {
    const { limits } = this.#deps;
    if (query.cursor !== undefined) {
      // RFC 9865 cursors walk one directory search; a root query is one search per type.
      throw ScimError.badRequest(
        'cursor paging is offered per resource type (/Users, /Groups); use startIndex here',
      );
    }
    const startIndex = Math.max(1, Math.trunc(query.startIndex ?? 1));
    const count = Math.min(
      Math.max(0, Math.trunc(query.count ?? limits.defaultPageSize)),
      limits.maxPageSize,
    );
    const totals: { rt: CompiledResourceType; total: number }[] = [];
    let refused: ScimError | undefined;
    for (const rt of this.#deps.mappings().resourceTypes) {
      try {
        const counted = await this.list(rt, { ...query, startIndex: 1, count: 0 }, ctx);
        totals.push({ rt, total: counted.totalResults });
      } catch (error) {
        if (
          !(error instanceof ScimError) ||
          error.scimType !== 'invalidFilter' ||
          !/not mapped/.test(error.detail)
        )
          throw error;
        refused ??= error;
      }
    }
    if (totals.length === 0 && refused) throw refused;
    const resources: ScimObject[] = [];
    let offset = 0; // resources of the types before this one
    for (const { rt, total } of totals) {
      const wantedFrom = startIndex + resources.length; // 1-based position in the whole sequence
      const remaining = count - resources.length;
      if (remaining > 0 && wantedFrom <= offset + total) {
        const page = await this.list(
          rt,
          { ...query, startIndex: wantedFrom - offset, count: remaining },
          ctx,
        );
        resources.push(...page.Resources);
      }
      offset += total;
    }
    return listResult(resources, offset, startIndex);
  }

  async create(rt: CompiledResourceType, body: unknown, ctx: RequestContext): Promise<ResourceResult> {
    return this.#guard(rt, async () => {
      const requested = canonicalizeResource(body, shapeOf(rt), 'create');
      // A saga (required services must confirm first): the entry starts disabled.
      const activeRule = activeRuleOf(rt);
      const pending =
        activeRule !== undefined && (this.#deps.journal?.confirmationRequired?.(rt.name) ?? false);
      const resource = pending ? { ...requested, active: false } : requested;
      await this.#checkUniqueness(rt, resource, undefined);
      const refs = await this.#resolveReferenceIds(rt, resource);
      const mapped = resourceToAttributes(rt, resource, refs, 'create');
      const placeholder = rt.directory.emptyGroupPlaceholder;
      if (placeholder) {
        const memberRule = membershipRule(rt);
        if (memberRule) {
          const existing = mapped.get(memberRule.ldapKey);
          if (existing) existing.values.push(placeholder);
          else mapped.set(memberRule.ldapKey, { ldap: memberRule.ldap, values: [placeholder] });
        }
      }
      const dn = dnForResource(rt, resource);
      const intent: ChangeIntent = {
        operation: 'add',
        dn,
        resourceType: rt.name,
        actor: ctx.actor,
        events: [
          {
            ...eventOf(rt, 'created', presentAttributes(rt, resource), ctx),
            ...(pending ? { pendingActivation: requested.active !== false } : {}),
          },
        ],
      };
      const entry = await this.#journaled(
        intent,
        () =>
          this.#directory
            .add(dn, attributesForAdd(rt, mapped), {
              returnAttributes: allReadAttributes(rt),
              binaryAttributes: rt.directory.binaryAttributes,
            })
            .catch((error: unknown) => {
              // noSuchObject on an add is the parent: a value the DN template places by names no OU.
              if (error instanceof NotFoundError)
                throw ScimError.invalidValue(
                  `the new ${rt.name} would be placed under "${parentDn(dn)}", which does not exist in the directory (directory.dnTemplate ${rt.directory.dnTemplate})`,
                );
              throw error;
            }),
        (added) => ({ resourceId: added ? (entryId(rt, added) ?? '') : '' }),
      );
      if (!entry) throw ScimError.internal('the directory did not return the new entry');
      return this.#toResult(rt, entry, {}, ctx);
    });
  }

  async replace(
    rt: CompiledResourceType,
    id: string,
    body: unknown,
    ctx: RequestContext,
    precondition: Precondition,
    response: ResponseShape = {},
  ): Promise<ResourceResult> {
    return this.#guard(rt, async () => {
      const entry = await this.#findById(rt, id, allReadAttributes(rt));
      if (!entry) throw notFound(rt, id);
      this.#checkPrecondition(rt, entry, precondition);
      // The stored resource lets canonicalisation refuse changes to immutable attributes.
      const existing = entryToResource(rt, entry, { location: '', references: new Map() });
      const resource = canonicalizeResource(body, shapeOf(rt), 'replace', existing);
      await this.#checkUniqueness(rt, resource, entry);
      const refs = await this.#resolveReferenceIds(rt, resource);
      const desired = resourceToAttributes(rt, resource, refs, 'replace', entry);
      const memberRule = membershipRule(rt);
      // Membership is a delta even on PUT: the full member list is compared, not rewritten.
      if (memberRule) desired.delete(memberRule.ldapKey);
      let changes = changesForReplace(rt, entry, desired);
      if (memberRule) {
        const wanted = refs.get(memberRule.key) ?? [];
        changes = [...changes, ...(await this.#membershipReplace(rt, entry, memberRule, wanted))];
      }
      return this.#write(rt, entry, resource, changes, precondition, ctx, response);
    });
  }

  async patch(
    rt: CompiledResourceType,
    id: string,
    body: unknown,
    ctx: RequestContext,
    precondition: Precondition,
    response: ResponseShape = {},
  ): Promise<ResourceResult> {
    return this.#guard(rt, async () => {
      const operations = parsePatchRequest(body, shapeOf(rt));
      const memberRule = membershipRule(rt);
      const delta = memberRule ? memberDelta(operations) : { add: [], remove: [], other: operations };
      if (memberRule) {
        // Members are never read whole, so only value-based member operations can be applied.
        const unsupported = delta.other.find(
          (op) => op.path?.path.attribute.toLowerCase() === memberRule.attribute.toLowerCase(),
        );
        if (unsupported) {
          throw ScimError.invalidFilter(
            `${memberRule.attribute}: only filters on value (members[value eq "id"]) can select members; use the member ids`,
          );
        }
      }
      const entry = await this.#findById(rt, id, allReadAttributes(rt));
      if (!entry) throw notFound(rt, id);
      this.#checkPrecondition(rt, entry, precondition);
      let changes: DirChange[] = [];
      let resource: ScimObject | undefined;
      if (delta.other.length > 0) {
        // The patch applies to the full current resource, references included (except membership,
        // which is handled as a delta and never read whole).
        const references = new Map<string, ReferenceValue[]>();
        for (const rule of rt.rules) {
          if (rule.references && !rule.readOnly && rule !== memberRule) {
            references.set(rule.key, await this.#referencesOf(rule, entry, ctx));
          }
        }
        const current = entryToResource(rt, entry, {
          location: '',
          references,
          include: (r) => r !== memberRule,
        });
        const patched = applyPatch(current, delta.other, shapeOf(rt));
        resource = patched;
        await this.#checkUniqueness(rt, patched, entry);
        const desired = resourceToAttributes(rt, patched, new Map(), 'replace', entry);
        // Reference attributes other than membership are patched through the full resource.
        const refs = await this.#resolveReferenceIds(rt, patched);
        for (const rule of rt.rules) {
          if (!rule.references || rule.readOnly || rule === memberRule) continue;
          const dns = refs.get(rule.key);
          if (dns && dns.length > 0) desired.set(rule.ldapKey, { ldap: rule.ldap, values: dns });
        }
        changes = changesForReplace(rt, entry, desired, {
          keepWhenAbsent: new Set(memberRule ? [memberRule.ldapKey] : []),
        });
      }
      if (memberRule) {
        if (delta.replaceAll) {
          const dns = await this.#idsToDns(memberRule, delta.replaceAll);
          changes.push(...(await this.#membershipReplace(rt, entry, memberRule, dns)));
        }
        if (delta.add.length > 0 || delta.remove.length > 0) {
          changes.push(...(await this.#membershipDelta(rt, entry, memberRule, delta.add, delta.remove)));
        }
      }
      return this.#write(rt, entry, resource, changes, precondition, ctx, response);
    });
  }

  async delete(
    rt: CompiledResourceType,
    id: string,
    precondition: Precondition,
    ctx: RequestContext,
  ): Promise<void> {
    return this.#guard(rt, async () => {
      if (rt.directory.deleteMode === 'disable') {
        await this.#disableInsteadOfDelete(rt, id, precondition, ctx);
        return;
      }
      const entry = await this.#findById(rt, id, [rt.directory.idAttribute, rt.directory.versionAttribute]);
      if (!entry) throw notFound(rt, id);
      this.#checkPrecondition(rt, entry, precondition);
      const resourceId = entryId(rt, entry) ?? id;
      const intent: ChangeIntent = {
        operation: 'delete',
        dn: entry.dn,
        ...versionBefore(rt, entry),
        resourceId,
        resourceType: rt.name,
        actor: ctx.actor,
        events: [eventOf(rt, 'deleted', [], ctx)],
      };
      await this.#journaled(
        intent,
        () => this.#directory.delete(entry.dn, assertionFor(rt, entry, precondition)),
        () => ({ resourceId }),
      );
      this.#referenceCache.forget(entry.dn);
    });
  }

  /**
   * deleteMode "disable" (common for Active Directory, where accounts are kept for audit): the
   * entry stays, `active` becomes false through the mapping (other userAccountControl bits kept),
   * and its group memberships are removed, one value delete per group.
   */
  async #disableInsteadOfDelete(
    rt: CompiledResourceType,
    id: string,
    precondition: Precondition,
    ctx: RequestContext,
  ): Promise<void> {
    const entry = await this.#findById(rt, id, allReadAttributes(rt));
    if (!entry) throw notFound(rt, id);
    this.#checkPrecondition(rt, entry, precondition);
    if (!activeRuleOf(rt)) throw ScimError.internal('deleteMode "disable" without a mapping of active');
    const change = activeChange(rt, entry, false);
    if (change) await this.#write(rt, entry, undefined, [change.change], precondition, ctx);
    const userId = entryId(rt, entry);
    if (userId) this.#referenceCache.set(entry.dn, { resourceType: rt.name, id: userId });
    for (const groupType of this.#deps.mappings().resourceTypes) {
      const memberRule = membershipRule(groupType);
      if (!memberRule || !(memberRule.references ?? []).includes(rt.name)) continue;
      const groups = await this.#searchAll({
        base: groupType.directory.base,
        scope: groupType.directory.scope,
        filter: {
          type: 'and',
          filters: [
            groupType.directory.scopeFilter,
            { type: 'equal', attribute: memberRule.ldap, value: entry.dn },
          ],
        },
        attributes: allReadAttributes(groupType),
        binaryAttributes: groupType.directory.binaryAttributes,
      });
      for (const group of groups.entries) {
        const removal = await this.#keepPlaceholder(groupType, group, memberRule, [
          { operation: 'delete', attribute: memberRule.ldap, values: [entry.dn] },
        ]);
        await this.#write(groupType, group, undefined, removal, {}, ctx);
      }
    }
  }

  /**
   * Applies a finished provisioning saga: enable the entry held disabled (when the client asked
   * for an active resource), or compensate after a required service refused it for good — keep it
   * disabled, or delete it — and record a provisioning_failed event either way. An entry the
   * client deleted meanwhile is left alone.
   */
  async settleProvisioning(outcome: SagaOutcome, compensation: 'disable' | 'delete'): Promise<void> {
    const rt = this.#deps.mappings().resourceTypes.find((r) => r.name === outcome.resourceType);
    if (!rt) return;
    const ctx: RequestContext = { baseUrl: '', actor: `saga:${outcome.services.join(',')}` };
    const entry = await this.#findById(rt, outcome.resourceId, allReadAttributes(rt));
    if (!entry) return;
    if (outcome.outcome === 'confirmed') {
      if (!outcome.activate) return;
      const activation = activeChange(rt, entry, true);
      if (!activation) return;
      const intent: ChangeIntent = {
        operation: 'modify',
        dn: entry.dn,
        ...versionBefore(rt, entry),
        resourceId: outcome.resourceId,
        resourceType: rt.name,
        actor: ctx.actor,
        events: [eventOf(rt, 'activated', [rulePathName(activation.rule)], ctx)],
      };
      await this.#journaled(
        intent,
        () => this.#directory.modify(entry.dn, [activation.change]),
        () => ({ resourceId: outcome.resourceId }),
      );
      return;
    }
    const failed: ChangeIntent = {
      operation: compensation === 'delete' ? 'delete' : 'modify',
      dn: entry.dn,
      ...versionBefore(rt, entry),
      resourceId: outcome.resourceId,
      resourceType: rt.name,
      actor: ctx.actor,
      events: [
        {
          ...eventOf(rt, 'provisioning_failed', [], ctx),
          ...(outcome.reason ? { changedAttributes: [`reason: ${outcome.reason}`] } : {}),
        },
        ...(compensation === 'delete' ? [eventOf(rt, 'deleted', [], ctx)] : []),
      ],
    };
    await this.#journaled(
      failed,
      async () => {
        if (compensation === 'delete') await this.#directory.delete(entry.dn);
      },
      () => ({ resourceId: outcome.resourceId }),
    );
    if (compensation === 'delete') this.#referenceCache.forget(entry.dn);
  }

  /** Runs a use case, turning port errors into SCIM errors in one place. */
  async #guard<T>(rt: CompiledResourceType, work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      throw toScimError(
        error,
        rt.name,
        (ldap) => rt.rules.find((r) => r.ldapKey === ldap.toLowerCase())?.key,
      );
    }
  }

  async #write(
    rt: CompiledResourceType,
    entry: DirEntry,
    resource: ScimObject | undefined,
    changes: DirChange[],
    precondition: Precondition,
    ctx: RequestContext,
    response: ResponseShape = {},
  ): Promise<ResourceResult> {
    const resourceId = entryId(rt, entry) ?? '';
    const newDn = resource ? dnForResource(rt, resource) : entry.dn;
    const renames = resource !== undefined && (!sameDn(newDn, entry.dn) || rdnValueChanged(rt, entry, newDn));
    const intent: ChangeIntent = {
      operation: 'modify',
      dn: entry.dn,
      ...(renames ? { newDn } : {}),
      ...versionBefore(rt, entry),
      resourceId,
      resourceType: rt.name,
      actor: ctx.actor,
      events: this.#changeEvents(rt, changes, renames, ctx),
    };
    return this.#journaled(
      intent,
      () =>
        this.#applyWrite(
          rt,
          entry,
          resource,
          changes,
          precondition,
          ctx,
          renames ? newDn : undefined,
          response,
        ),
      (result) => ({ resourceId, ...(result.version ? { version: result.version } : {}) }),
    );
  }

  async #applyWrite(
    rt: CompiledResourceType,
    entry: DirEntry,
    resource: ScimObject | undefined,
    changes: DirChange[],
    precondition: Precondition,
    ctx: RequestContext,
    newDn: string | undefined,
    response: ResponseShape,
  ): Promise<ResourceResult> {
    let current = entry;
    // A move (the DN template places entries by an attribute value) needs its new parent: checked
    // before anything is written, since the rename comes after the modify.
    if (newDn !== undefined && !sameDn(parentDn(newDn), parentDn(entry.dn))) {
      const parent = parentDn(newDn);
      if (!(await this.#directory.read(parent, []))) {
        throw ScimError.invalidValue(
          `the ${rt.name} would move to "${parent}", which does not exist in the directory (directory.dnTemplate ${rt.directory.dnTemplate})`,
        );
      }
    }
    // The modify goes first: it carries the If-Match assertion and the values the directory may
    // still refuse, so a failure leaves nothing written. A rename (a changed RDN source such as
    // userName; modifyDN keeps the entryUUID) follows; its usual failure, a taken name, was
    // already refused by the uniqueness check.
    if (changes.length > 0) {
      const updated = await this.#directory.modify(entry.dn, changes, {
        ...assertionFor(rt, entry, precondition),
        returnAttributes: allReadAttributes(rt),
        binaryAttributes: rt.directory.binaryAttributes,
      });
      if (updated) current = updated;
    }
    if (newDn !== undefined) {
      await this.#directory.rename(entry.dn, newDn);
      this.#referenceCache.forget(entry.dn);
      current =
        (await this.#directory.read(newDn, allReadAttributes(rt), rt.directory.binaryAttributes)) ?? current;
    }
    void resource;
    return this.#toResult(rt, current, response.projection ?? {}, ctx, response.body === false);
  }

  /**
   * Runs a directory write inside the change journal: the intent is recorded first, so a crash
   * between the write and the publish loses no event (docs/architecture.md §Writes and events). A write
   * refused by the directory aborts the intent; one whose outcome is unknown keeps it for the
   * journal's recovery to settle against the directory.
   */
  async #journaled<T>(
    intent: ChangeIntent,
    write: () => Promise<T>,
    outcome: (result: T) => { resourceId: string; version?: string },
  ): Promise<T> {
    const journal = this.#deps.journal;
    if (!journal || intent.events.length === 0) return write();
    const handle = await journal.begin(intent);
    let result: T;
    try {
      result = await write();
    } catch (error) {
      if (!(error instanceof UnavailableError)) await handle.abort().catch(() => undefined);
      throw error;
    }
    // The write is done and acknowledged either way; a failed commit is settled by recovery.
    await handle.commit(outcome(result)).catch(() => undefined);
    return result;
  }

  /** Events for a modify: what changed (attribute names only), deactivation, membership deltas. */
  #changeEvents(
    rt: CompiledResourceType,
    changes: DirChange[],
    renamed: boolean,
    ctx: RequestContext,
  ): Omit<ChangeEvent, 'timestamp' | 'resourceId'>[] {
    const memberRule = membershipRule(rt);
    const attributeNames = new Set<string>();
    const added: string[] = [];
    const removed: string[] = [];
    let deactivated = false;
    for (const change of changes) {
      const key = change.attribute.toLowerCase();
      if (key === 'objectclass') continue;
      if (memberRule && key === memberRule.ldapKey) {
        const ids = change.values.flatMap((dn) => {
          const ref = this.#referenceCache.get(valueText(dn));
          return ref ? [ref.id] : [];
        });
        if (change.operation === 'add') added.push(...ids);
        else if (change.operation === 'delete') removed.push(...ids);
        continue;
      }
      for (const rule of rt.rules) {
        if (rule.ldapKey !== key) continue;
        attributeNames.add(rulePathName(rule));
        if (rule.attribute === 'active' && rule.isCore) {
          const value = change.values[0];
          try {
            deactivated ||= value !== undefined && rule.transform.fromLdap(valueText(value)) === false;
          } catch {
            // not a boolean the mapping understands: an update, not a deactivation
          }
        }
      }
    }
    if (renamed) attributeNames.add(rt.directory.rdnPath);
    const events: Omit<ChangeEvent, 'timestamp' | 'resourceId'>[] = [];
    if (attributeNames.size > 0)
      events.push(eventOf(rt, deactivated ? 'deactivated' : 'updated', [...attributeNames], ctx));
    if (added.length > 0) events.push({ ...eventOf(rt, 'member_added', ['members'], ctx), memberIds: added });
    if (removed.length > 0)
      events.push({ ...eventOf(rt, 'member_removed', ['members'], ctx), memberIds: removed });
    return events;
  }

  #checkPrecondition(rt: CompiledResourceType, entry: DirEntry, precondition: Precondition): void {
    const wanted = precondition.ifMatch;
    if (wanted === undefined || wanted.trim() === '*') return;
    const version = entry.attributes[rt.directory.versionAttribute.toLowerCase()]?.[0];
    const current = version === undefined ? undefined : valueText(version);
    const tags = parseEtags(wanted);
    if (current === undefined || !tags.includes(current)) {
      throw ScimError.preconditionFailed(`${rt.name} has version W/"${current ?? ''}", not ${wanted}`);
    }
  }

  async #findById(rt: CompiledResourceType, id: string, attributes: string[]): Promise<DirEntry | undefined> {
    const idFilter = idEqualsFilter(rt, id);
    if (idFilter.type === 'false') return undefined;
    const result = await this.#directory.search({
      base: rt.directory.base,
      scope: rt.directory.scope,
      filter: { type: 'and', filters: [rt.directory.scopeFilter, idFilter] },
      attributes,
      binaryAttributes: rt.directory.binaryAttributes,
      sizeLimit: 2,
    });
    return result.entries[0];
  }

  async #toResult(
    rt: CompiledResourceType,
    entry: DirEntry,
    projection: Projection,
    ctx: RequestContext,
    /** The caller sends no body (204): references, possibly a group's whole member list, are not read. */
    withoutReferences = false,
  ): Promise<ResourceResult> {
    const id = entryId(rt, entry) ?? '';
    const location = `${ctx.baseUrl}${rt.endpoint}/${encodeURIComponent(id)}`;
    const references = new Map<string, ReferenceValue[]>();
    for (const rule of rt.rules) {
      if (!rule.references || withoutReferences || !wanted(rt, rule, projection)) continue;
      // An entry without the attribute (a user in no group, without a manager) needs no lookup.
      if (readsForward(rule) && !entry.attributes[rule.ldapKey]?.length) {
        references.set(rule.key, []);
        continue;
      }
      references.set(rule.key, await this.#referencesOf(rule, entry, ctx));
    }
    let resource = entryToResource(rt, entry, {
      location,
      references,
      include: (rule) => wanted(rt, rule, projection),
    });
    resource = projectSubAttributes(resource, projection, rt.coreSchema.id);
    const version = (resource.meta as { version?: string } | undefined)?.version;
    // meta is returned by default (RFC 7643 §3.1): an `attributes` list that does not name it leaves it out.
    if (!isReturned(projection, rt.coreSchema.id, rt.coreSchema.id, 'meta', 'default')) delete resource.meta;
    return { resource, location, ...(version ? { version } : {}) };
  }

  /** Resolves the DNs a reference rule holds into {value: id, $ref, display, type}. */
  async #referencesOf(rule: CompiledRule, entry: DirEntry, ctx: RequestContext): Promise<ReferenceValue[]> {
    const targets = (rule.references ?? [])
      .map((name) => this.#deps.mappings().resourceTypes.find((r) => r.name === name))
      .filter((t): t is CompiledResourceType => t !== undefined);
    const toValue = (
      target: CompiledResourceType,
      id: string,
      display: string | undefined,
    ): ReferenceValue => ({
      value: id,
      $ref: `${ctx.baseUrl}${target.endpoint}/${encodeURIComponent(id)}`,
      ...(display !== undefined ? { display } : {}),
      ...(rule.attribute === 'members' ? { type: target.name } : {}),
    });
    if (!readsForward(rule)) {
      // Membership of a group is read through the members' back-links (memberOf): one search,
      // paged when large, never the group's whole member attribute.
      const out: ReferenceValue[] = [];
      for (const target of targets) {
        // Each member is reduced to its reference as it arrives: a 100,000-member group never has
        // its member entries in memory all at once.
        await this.#searchAll(
          {
            base: target.directory.base,
            scope: target.directory.scope,
            filter: backLinkFilter(target, rule.reverse ?? '', entry.dn),
            attributes: referenceAttributes(target),
            binaryAttributes: target.directory.binaryAttributes,
          },
          (entry) => {
            const ref = referenceOf(target, entry);
            if (ref) out.push(toValue(target, ref.id, ref.display));
          },
        );
      }
      return out;
    }
    // Few DNs held by the entry itself (memberOf, manager): resolve each through the cache.
    const dns = (entry.attributes[rule.ldapKey] ?? []).map(valueText);
    const resolved = await Promise.all(dns.map((dn) => this.#resolveReferenceDn(dn, targets)));
    const out: ReferenceValue[] = [];
    for (const ref of resolved) {
      const target = ref && targets.find((t) => t.name === ref.resourceType);
      if (ref && target) out.push(toValue(target, ref.id, ref.display));
    }
    return out;
  }

  async #resolveReferenceDn(dn: string, targets: CompiledResourceType[]): Promise<CachedReference | null> {
    const cached = this.#referenceCache.get(dn);
    if (cached !== undefined && (cached === null || targets.some((t) => t.name === cached.resourceType)))
      return cached;
    let found: CachedReference | null = null;
    for (const target of targets) {
      if (!isUnder(dn, target.directory.base)) continue;
      // A base-scope search with the type's scope filter: the directory decides membership of the type.
      const result = await this.#directory
        .search({
          base: dn,
          scope: 'base',
          filter: target.directory.scopeFilter,
          attributes: referenceAttributes(target),
          binaryAttributes: target.directory.binaryAttributes,
          sizeLimit: 1,
        })
        .catch((error: unknown) => {
          if (error instanceof NotFoundError) return { entries: [] };
          throw error;
        });
      const ref = result.entries[0] && referenceOf(target, result.entries[0]);
      if (ref) {
        found = ref;
        break;
      }
    }
    this.#referenceCache.set(dn, found);
    return found;
  }

  /**
   * All entries matching a search that is usually small (a user's groups): one plain search first;
   * only when the directory's size limit stops it, a paged walk (which holds a connection).
   */
  async #searchAll(
    request: Omit<SearchRequest, 'page' | 'sizeLimit' | 'each'>,
    /** Visit entries as they arrive (the result's entries are then empty). */
    each?: (entry: DirEntry) => void,
  ): Promise<SearchResult> {
    let small: SearchResult;
    try {
      small = await this.#directory.search({ ...request, sizeLimit: UNPAGED_SEARCH_LIMIT });
    } catch (error) {
      if (!(error instanceof TooManyResultsError)) throw error;
      const count = this.#deps.limits.maxMembersReturned;
      return this.#directory.search({
        ...request,
        page: { kind: 'offset', startIndex: 1, count },
        ...(each ? { each } : {}),
      });
    }
    if (!each) return small;
    for (const entry of small.entries) each(entry);
    return { entries: [], total: small.entries.length };
  }

  /** Uniqueness (RFC 7643 §2.2) by a directory search, for values that are new to this entry. */
  async #checkUniqueness(
    rt: CompiledResourceType,
    resource: ScimObject,
    current: DirEntry | undefined,
  ): Promise<void> {
    const ownDn = current?.dn;
    for (const rule of rt.rules) {
      if (rule.leafDefinition.uniqueness === 'none' || rule.readOnly) continue;
      const mapped = resourceToAttributes(rt, resource, new Map(), 'replace').get(rule.ldapKey);
      const value = mapped?.values[0];
      if (value === undefined) continue;
      // A value the entry already holds cannot create a duplicate.
      if ((current?.attributes[rule.ldapKey] ?? []).some((v) => valueText(v) === value)) continue;
      const result = await this.#directory.search({
        base: rt.directory.base,
        scope: rt.directory.scope,
        filter: {
          type: 'and',
          filters: [rt.directory.scopeFilter, { type: 'equal', attribute: rule.ldap, value }],
        },
        attributes: [],
        sizeLimit: 2,
      });
      if (result.entries.some((e) => ownDn === undefined || !sameDn(e.dn, ownDn))) {
        throw ScimError.uniqueness(`${rule.key} "${String(value)}" is already taken by another ${rt.name}`);
      }
    }
  }

  /** ids of every writable reference rule -> DNs; unknown ids are a client error naming them. */
  async #resolveReferenceIds(rt: CompiledResourceType, resource: ScimObject): Promise<Map<string, string[]>> {
    const out = new Map<string, string[]>();
    for (const [key, ids] of referenceIds(rt, resource)) {
      const rule = rt.rules.find((r) => r.key === key);
      if (!rule) continue;
      out.set(key, await this.#idsToDns(rule, ids));
    }
    return out;
  }

  async #idsToDns(rule: CompiledRule, ids: string[]): Promise<string[]> {
    const found = await this.#lookupIds(rule.references ?? [], ids);
    const missing = ids.filter((id) => !found.has(id.toLowerCase()));
    if (missing.length > 0 && !rule.ignoreUnresolved) {
      throw ScimError.invalidValue(
        `${rule.key}: no ${(rule.references ?? []).join(' or ')} with id ${missing.map((m) => `"${m}"`).join(', ')}`,
      );
    }
    return [...new Set(ids.flatMap((id) => found.get(id.toLowerCase())?.dn ?? []))];
  }

  /** One search per referenced resource type for a batch of ids; returns id -> entry (with memberOf when asked). */
  async #lookupIds(
    typeNames: string[],
    ids: string[],
    extraAttributes: string[] = [],
  ): Promise<Map<string, DirEntry>> {
    const mappings = this.#deps.mappings();
    const found = new Map<string, DirEntry>();
    const unique = [...new Set(ids.map((i) => i.toLowerCase()))];
    for (const name of typeNames) {
      const target = mappings.resourceTypes.find((r) => r.name === name);
      if (!target) continue;
      // The display attribute is read too, so that what goes into the reference cache is whole:
      // a later read of memberOf (user.groups) takes display from there.
      for (let i = 0; i < unique.length; i += 200) {
        const batch = unique.slice(i, i + 200).filter((id) => !found.has(id));
        const filters: DirFilter[] = [];
        for (const id of batch) {
          filters.push(
            await translateFilter(
              target,
              { type: 'compare', path: { attribute: 'id' }, operator: 'eq', value: id },
              { resolveId: async () => undefined },
            ),
          );
        }
        const idFilter = simplify({ type: 'or', filters });
        if (idFilter.type === 'false') continue;
        const result = await this.#directory.search({
          base: target.directory.base,
          scope: target.directory.scope,
          filter: { type: 'and', filters: [target.directory.scopeFilter, idFilter] },
          attributes: [...referenceAttributes(target), ...extraAttributes],
          binaryAttributes: target.directory.binaryAttributes,
          sizeLimit: batch.length + 1,
        });
        for (const entry of result.entries) {
          const ref = referenceOf(target, entry);
          if (ref) {
            found.set(ref.id, entry);
            this.#referenceCache.set(entry.dn, ref);
          }
        }
      }
    }
    return found;
  }

  async #resolveDn(types: string[], id: string): Promise<string | undefined> {
    return (await this.#lookupIds(types, [id])).get(id.toLowerCase())?.dn;
  }

  /**
   * Member add/remove as value add/delete: cost independent of the group's size. Members already
   * present (or already absent) are skipped so retried PATCHes succeed, using the members' own
   * back-links (memberOf), not the group's member list.
   */
  async #membershipDelta(
    rt: CompiledResourceType,
    group: DirEntry,
    rule: CompiledRule,
    addIds: string[],
    removeIds: string[],
  ): Promise<DirChange[]> {
    const backLink = rule.reverse;
    const isMember = (entry: DirEntry): boolean | undefined => {
      if (!backLink) return undefined;
      return (entry.attributes[backLink.toLowerCase()] ?? []).some((v) => sameDn(valueText(v), group.dn));
    };
    const changes: DirChange[] = [];
    if (addIds.length > 0) {
      const found = await this.#lookupIds(rule.references ?? [], addIds, backLink ? [backLink] : []);
      const missing = addIds.filter((id) => !found.has(id.toLowerCase()));
      if (missing.length > 0) {
        throw ScimError.invalidValue(
          `members: no ${(rule.references ?? []).join(' or ')} with id ${missing.map((m) => `"${m}"`).join(', ')}`,
        );
      }
      const dns = [...found.values()].filter((e) => isMember(e) !== true).map((e) => e.dn);
      if (dns.length > 0) changes.push({ operation: 'add', attribute: rule.ldap, values: dns });
    }
    if (removeIds.length > 0) {
      const found = await this.#lookupIds(rule.references ?? [], removeIds, backLink ? [backLink] : []);
      // Unknown ids on remove are not an error: the member is gone either way (idempotent retries).
      const dns = [...found.values()].filter((e) => isMember(e) !== false).map((e) => e.dn);
      if (dns.length > 0) changes.push({ operation: 'delete', attribute: rule.ldap, values: dns });
    }
    return this.#keepPlaceholder(rt, group, rule, changes);
  }

  /** Full member list -> delta against the current members (read through the back-links). */
  async #membershipReplace(
    rt: CompiledResourceType,
    group: DirEntry,
    rule: CompiledRule,
    wantedDns: string[],
  ): Promise<DirChange[]> {
    const current = await this.#currentMemberDns(group, rule);
    const wantedSet = new Set(wantedDns.map((d) => d.toLowerCase()));
    const currentSet = new Set(current.map((d) => d.toLowerCase()));
    const add = wantedDns.filter((d) => !currentSet.has(d.toLowerCase()));
    const remove = current.filter((d) => !wantedSet.has(d.toLowerCase()));
    const changes: DirChange[] = [];
    if (add.length > 0) changes.push({ operation: 'add', attribute: rule.ldap, values: add });
    if (remove.length > 0) changes.push({ operation: 'delete', attribute: rule.ldap, values: remove });
    return this.#keepPlaceholder(rt, group, rule, changes);
  }

  async #currentMemberDns(group: DirEntry, rule: CompiledRule): Promise<string[]> {
    if (!rule.reverse) {
      const placeholder = this.#deps.mappings().resourceTypes.find((r) => r.rules.includes(rule))
        ?.directory.emptyGroupPlaceholder;
      return (group.attributes[rule.ldapKey] ?? [])
        .map(valueText)
        .filter((d) => !placeholder || !sameDn(d, placeholder));
    }
    const mappings = this.#deps.mappings();
    const dns: string[] = [];
    for (const name of rule.references ?? []) {
      const target = mappings.resourceTypes.find((r) => r.name === name);
      if (!target) continue;
      await this.#searchAll(
        {
          base: target.directory.base,
          scope: target.directory.scope,
          filter: backLinkFilter(target, rule.reverse, group.dn),
          attributes: referenceAttributes(target),
          binaryAttributes: target.directory.binaryAttributes,
        },
        (entry) => {
          const ref = referenceOf(target, entry);
          if (ref) this.#referenceCache.set(entry.dn, ref);
          dns.push(entry.dn);
        },
      );
    }
    return dns;
  }

  /**
   * groupOfNames needs one member (RFC 4519 §3.5): the mapping's placeholder DN stays in every
   * group as a hidden member, so removing the last real member is always valid. Groups created
   * outside the bridge get it added in the same modify when members are removed.
   */
  async #keepPlaceholder(
    rt: CompiledResourceType,
    group: DirEntry,
    rule: CompiledRule,
    changes: DirChange[],
  ): Promise<DirChange[]> {
    const placeholder = rt.directory.emptyGroupPlaceholder;
    if (!placeholder || !changes.some((c) => c.operation === 'delete')) return changes;
    const check = await this.#directory.search({
      base: group.dn,
      scope: 'base',
      filter: { type: 'equal', attribute: rule.ldap, value: placeholder },
      attributes: [],
    });
    if (check.entries.length > 0) return changes;
    return withMissingObjectClasses(rt, group, [
      { operation: 'add', attribute: rule.ldap, values: [placeholder] },
      ...changes,
    ]);
  }

  #sortKeys(rt: CompiledResourceType, query: ListQuery): SortKey[] {
    const reverse = query.sortOrder === 'descending';
    if (query.sortBy) {
      const wantedPath = query.sortBy.toLowerCase();
      const rule = rt.rules.find((r) => {
        const p = r.subAttribute ? `${r.attribute}.${r.subAttribute}` : r.attribute;
        return (
          p.toLowerCase() === wantedPath ||
          (r.typeValue !== undefined && r.attribute.toLowerCase() === wantedPath)
        );
      });
      if (!rule || rule.references)
        throw ScimError.invalidValue(`sortBy: "${query.sortBy}" is not a sortable attribute of ${rt.name}`);
      return [
        { attribute: rule.ldap, ...(rule.orderingRule ? { orderingRule: rule.orderingRule } : {}), reverse },
      ];
    }
    const s = rt.directory.sort;
    return [{ attribute: s.attribute, ...(s.orderingRule ? { orderingRule: s.orderingRule } : {}), reverse }];
  }
}

/**
 * Whether a filter can match only a few entries: an equality on the id or on an attribute the
 * mapping declares unique (or externalId), possibly AND-ed with anything, or an OR of such.
 */
function isSelective(rt: CompiledResourceType, filter: DirFilter): boolean {
  switch (filter.type) {
    case 'equal': {
      const attribute = filter.attribute.toLowerCase();
      if (attribute === rt.directory.idAttribute.toLowerCase()) return true;
      return rt.rules.some(
        (r) =>
          r.ldapKey === attribute && (r.leafDefinition.uniqueness !== 'none' || r.attribute === 'externalId'),
      );
    }
    case 'and':
      return filter.filters.some((f) => isSelective(rt, f));
    case 'or':
      return filter.filters.length <= 20 && filter.filters.every((f) => isSelective(rt, f));
    default:
      return false;
  }
}

/**
 * Cursors (RFC 9865) are opaque to clients: the position in the query's result, the total counted
 * on the first page, and the directory's handle for its open paged search (RFC 2696) when it kept
 * one, sealed with a digest of the query so a cursor cannot be replayed against another query.
 * The position alone is enough to answer: a handle that this instance does not hold (another
 * instance issued it, or the session expired) only means the page is found by its position.
 */
function cursorQueryKey(rt: CompiledResourceType, query: ListQuery): string {
  return createHash('sha256')
    .update(JSON.stringify([rt.name, query.filter ?? '', query.sortBy ?? '', query.sortOrder ?? '']))
    .digest('base64url')
    .slice(0, 16);
}

interface CursorState {
  position: number;
  total?: number;
  session?: string | undefined;
}

function encodeCursor(state: CursorState, queryKey: string): string {
  return Buffer.from(
    `${state.position}.${state.total ?? ''}.${state.session ?? ''}.${queryKey}`,
    'utf8',
  ).toString('base64url');
}

function decodeCursor(cursor: string, queryKey: string): CursorState {
  if (cursor === '') return { position: 1 };
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  const match = /^(\d{1,15})\.(\d{0,15})\.([A-Za-z0-9_-]{0,64})\.(.+)$/.exec(text);
  if (!match || match[4] !== queryKey || Number(match[1]) < 1) {
    throw ScimError.invalidCursor('the cursor is not one this server issued for this query');
  }
  return {
    position: Number(match[1]),
    ...(match[2] ? { total: Number(match[2]) } : {}),
    ...(match[3] ? { session: match[3] } : {}),
  };
}

function eventOf(
  rt: CompiledResourceType,
  change: ChangeEventType,
  changedAttributes: string[],
  ctx: RequestContext,
): Omit<ChangeEvent, 'timestamp' | 'resourceId'> {
  return {
    eventId: randomUUID(),
    type: `${rt.name.toLowerCase()}.${change}`,
    change,
    resourceType: rt.name,
    changedAttributes,
    actor: ctx.actor,
  };
}

/** The SCIM attribute names a new resource sets (names only; secrets are named, never valued). */
function presentAttributes(rt: CompiledResourceType, resource: ScimObject): string[] {
  const names = new Set<string>();
  for (const rule of rt.rules) {
    if (!rule.readOnly && valuesForRule(resource, rule).length > 0) names.add(rulePathName(rule));
  }
  return [...names];
}

function rulePathName(rule: CompiledRule): string {
  const local =
    rule.subAttribute && rule.typeValue === undefined
      ? `${rule.attribute}.${rule.subAttribute}`
      : rule.attribute;
  return rule.isCore ? local : `${rule.schema}:${local}`;
}

function versionBefore(rt: CompiledResourceType, entry: DirEntry): { versionBefore?: string } {
  const version = entry.attributes[rt.directory.versionAttribute.toLowerCase()]?.[0];
  return version === undefined ? {} : { versionBefore: valueText(version) };
}

function listResult(resources: ScimObject[], total: number, startIndex: number): ListResult {
  return {
    schemas: [LIST_RESPONSE_SCHEMA],
    totalResults: total,
    startIndex,
    itemsPerPage: resources.length,
    Resources: resources,
  };
}

function notFound(rt: CompiledResourceType, id: string): ScimError {
  return ScimError.notFound(`${rt.name} "${id}" not found`);
}

function shapeOf(rt: CompiledResourceType) {
  return { coreSchema: rt.coreSchema, extensions: rt.extensions };
}

/** The rule that holds group membership as a multi-valued reference (members.value). */
function membershipRule(rt: CompiledResourceType): CompiledRule | undefined {
  return rt.rules.find(
    (r) => r.references && !r.readOnly && r.attribute === 'members' && r.attributeDefinition.multiValued,
  );
}

/** The entries of `target` whose back-link attribute (memberOf) names `dn`: a group's members, from their side. */
function backLinkFilter(target: CompiledResourceType, reverse: string, dn: string): DirFilter {
  return {
    type: 'and',
    filters: [target.directory.scopeFilter, { type: 'equal', attribute: reverse, value: dn }],
  };
}

/** What an entry read with referenceAttributes() is as a reference: its type, id and display. */
function referenceOf(target: CompiledResourceType, entry: DirEntry): CachedReference | undefined {
  const id = entryId(target, entry);
  if (!id) return undefined;
  const displayRule = displayRuleOf(target);
  const display = displayRule ? entry.attributes[displayRule.ldapKey]?.[0] : undefined;
  return { resourceType: target.name, id, ...(display !== undefined ? { display: valueText(display) } : {}) };
}

/** The attributes referenceOf() needs. */
function referenceAttributes(target: CompiledResourceType): string[] {
  const displayRule = displayRuleOf(target);
  return [target.directory.idAttribute, ...(displayRule ? [displayRule.ldap] : [])];
}

function displayRuleOf(rt: CompiledResourceType): CompiledRule | undefined {
  return (
    rt.rules.find((r) => r.isCore && r.attribute === 'displayName') ??
    rt.rules.find((r) => r.isCore && r.attribute === 'userName')
  );
}

/**
 * The LDAP attributes a read of `rt` asks for under a projection (RFC 7644 §3.9): the id, version
 * and timestamps, and every forward-read rule that will be returned.
 */
export function readAttributes(rt: CompiledResourceType, projection: Projection): string[] {
  // Without a projection the list depends on the resource type only (every GET asks for it).
  const unprojected = !projection.attributes && !projection.excludedAttributes;
  if (unprojected) {
    const known = defaultReadAttributes.get(rt);
    if (known) return known;
  }
  const list = readAttributeNames(rt, (rule) => wanted(rt, rule, projection));
  if (unprojected) defaultReadAttributes.set(rt, list);
  return list;
}

/** The writable rule that maps the core `active` attribute, when the mapping has one. */
function activeRuleOf(rt: CompiledResourceType): CompiledRule | undefined {
  return rt.rules.find((r) => r.isCore && r.attribute === 'active' && !r.readOnly);
}

/**
 * The one LDAP change that sets `active` on an entry, through the mapping's transform (AD: the
 * ACCOUNTDISABLE bit merged into the entry's userAccountControl); undefined when the mapping has
 * no writable `active` or the transform yields no value.
 */
function activeChange(
  rt: CompiledResourceType,
  entry: DirEntry,
  active: boolean,
): { rule: CompiledRule; change: DirChange } | undefined {
  const rule = activeRuleOf(rt);
  if (!rule) return undefined;
  const current = entryToResource(rt, entry, {
    location: '',
    references: new Map(),
    include: (r) => !r.references,
  });
  const desired = resourceToAttributes(rt, { ...current, active }, new Map(), 'replace', entry);
  const values = desired.get(rule.ldapKey)?.values ?? [];
  return values.length > 0
    ? { rule, change: { operation: 'replace', attribute: rule.ldap, values } }
    : undefined;
}

function wanted(rt: CompiledResourceType, rule: CompiledRule, projection: Projection): boolean {
  return isReturned(
    projection,
    rt.coreSchema.id,
    rule.schema,
    rule.attribute,
    rule.attributeDefinition.returned,
  );
}

/** Whether a DN lies in the subtree of base (both as written by the directory or the mapping). */
function isUnder(dn: string, base: string): boolean {
  const d = normalizeDn(dn);
  const b = normalizeDn(base);
  return d === b || d.endsWith(`,${b}`);
}

function rdnValueChanged(rt: CompiledResourceType, entry: DirEntry, newDn: string): boolean {
  // Case-only changes of the RDN value are renames too (sameDn compares case-insensitively).
  const rdnOld = entry.dn.split(/(?<!\\),/)[0] ?? '';
  const rdnNew = newDn.split(/(?<!\\),/)[0] ?? '';
  void rt;
  return rdnOld !== rdnNew;
}

/** If-Match -> RFC 4528 assertion on the version attribute, so the check and the write are one. */
function assertionFor(
  rt: CompiledResourceType,
  entry: DirEntry,
  precondition: Precondition,
): { assertion?: DirFilter } {
  const wantedTag = precondition.ifMatch;
  if (wantedTag === undefined || wantedTag.trim() === '*') return {};
  const version = entry.attributes[rt.directory.versionAttribute.toLowerCase()]?.[0];
  if (version === undefined) return {};
  return {
    assertion: { type: 'equal', attribute: rt.directory.versionAttribute, value: valueText(version) },
  };
}

/** `W/"a", "b"` -> ['a', 'b'] (RFC 9110 §8.8.3 entity tags; weak and strong compare alike here). */
export function parseEtags(header: string): string[] {
  return [...header.matchAll(/(?:W\/)?"((?:[^"\\]|\\.)*)"/g)].map((m) => m[1] ?? '');
}
