/**
 * Writes (docs/architecture.md §Writes and events): create (POST), replace (PUT), and the one
 * journaled modify (+ rename) every update goes through.
 */

import { parentDn, rdnValueChanged, sameDn } from '../../lib/dn.ts';
import { attributesForAdd, changesForReplace } from '../../mapping/changes.ts';
import type { CompiledResourceType } from '../../mapping/compiled.ts';
import { membershipRule } from '../../mapping/compiled.ts';
import {
  allReadAttributes,
  dnForResource,
  entryId,
  entryToResource,
  resourceToAttributes,
  type ScimObject,
} from '../../mapping/convert.ts';
import type { DirChange, DirEntry } from '../../ports/directory.ts';
import { NotFoundError } from '../../ports/errors.ts';
import type { ChangeIntent } from '../../ports/events.ts';
import { canonicalizeResource } from '../../scim/canonicalize.ts';
import { ScimError } from '../../scim/errors.ts';
import { activeRuleOf } from './active.ts';
import {
  guard,
  type Precondition,
  type RequestContext,
  type ResourceResult,
  type ResponseShape,
  requireById,
  type ServiceContext,
  shapeOf,
} from './context.ts';
import { changeEvents, eventOf, journaled, presentAttributes, versionBefore } from './events.ts';
import { memberReplaceChanges, withInitialMembers } from './membership.ts';
import { checkNameLength } from './names.ts';
import { assertionFor, checkPrecondition } from './preconditions.ts';
import { toResult } from './read.ts';
import { resolveReferenceIds } from './references.ts';
import { checkUniqueness } from './uniqueness.ts';

export interface CreateRequest {
  resourceType: CompiledResourceType;
  body: unknown;
  ctx: RequestContext;
}

export function createResource(svc: ServiceContext, request: CreateRequest): Promise<ResourceResult> {
  const { resourceType: rt, body, ctx } = request;
  return guard(rt, async () => {
    const requested = canonicalizeResource(body, shapeOf(rt), 'create');
    // A saga (required services must confirm first): the entry starts disabled.
    const pending = activeRuleOf(rt) !== undefined && (svc.journal?.confirmationRequired?.(rt.name) ?? false);
    const resource = pending ? { ...requested, active: false } : requested;
    await checkUniqueness(svc, rt, resource, undefined);
    const refs = await resolveReferenceIds(svc, rt, resource);
    const mapped = resourceToAttributes(rt, resource, refs, 'create');
    withInitialMembers(rt, mapped);
    const dn = dnForResource(rt, resource);
    await checkNameLength(svc, rt, dn);
    const created = eventOf(rt, 'created', presentAttributes(rt, resource), ctx);
    const intent: ChangeIntent = {
      operation: 'add',
      dn,
      resourceType: rt.name,
      actor: ctx.actor,
      events: [{ ...created, ...(pending ? { pendingActivation: requested.active !== false } : {}) }],
    };
    const entry = await journaled(
      svc,
      intent,
      () => addEntry(svc, rt, dn, attributesForAdd(rt, mapped)),
      (added) => ({ resourceId: added ? (entryId(rt, added) ?? '') : '' }),
    );
    if (!entry) throw ScimError.internal('the directory did not return the new entry');
    return toResult(svc, rt, entry, { projection: {}, ctx });
  });
}

async function addEntry(
  svc: ServiceContext,
  rt: CompiledResourceType,
  dn: string,
  attributes: ReturnType<typeof attributesForAdd>,
): Promise<DirEntry | undefined> {
  try {
    return await svc.directory.add(dn, attributes, {
      returnAttributes: allReadAttributes(rt),
      binaryAttributes: rt.directory.binaryAttributes,
    });
  } catch (error) {
    // noSuchObject on an add is the parent: a value the DN template places by names no OU.
    if (error instanceof NotFoundError)
      throw ScimError.invalidValue(
        `the new ${rt.name} would be placed under "${parentDn(dn)}", which does not exist in the directory (directory.dnTemplate ${rt.directory.dnTemplate})`,
      );
    throw error;
  }
}

export interface ReplaceRequest {
  resourceType: CompiledResourceType;
  id: string;
  body: unknown;
  precondition: Precondition;
  response?: ResponseShape;
  ctx: RequestContext;
}

export function replaceResource(svc: ServiceContext, request: ReplaceRequest): Promise<ResourceResult> {
  const { resourceType: rt, id, body, precondition, ctx } = request;
  return guard(rt, async () => {
    const entry = await requireById(svc, rt, id, allReadAttributes(rt));
    checkPrecondition(rt, entry, precondition);
    // The stored resource lets canonicalisation refuse changes to immutable attributes.
    const existing = entryToResource(rt, entry, { location: '', references: new Map() });
    const resource = canonicalizeResource(body, shapeOf(rt), 'replace', existing);
    await checkUniqueness(svc, rt, resource, entry);
    const refs = await resolveReferenceIds(svc, rt, resource);
    const desired = resourceToAttributes(rt, resource, refs, 'replace', entry);
    const memberRule = membershipRule(rt);
    // Membership is a delta even on PUT: the full member list is compared, not rewritten.
    if (memberRule) desired.delete(memberRule.ldapKey);
    let changes = changesForReplace(rt, entry, desired);
    if (memberRule) {
      const wanted = refs.get(memberRule.key) ?? [];
      changes = [...changes, ...(await memberReplaceChanges(svc, rt, entry, memberRule, wanted))];
    }
    return writeChanges(svc, {
      resourceType: rt,
      entry,
      resource,
      changes,
      precondition,
      ctx,
      response: request.response ?? {},
    });
  });
}

/** One update of an existing entry: its changes, and the resource it becomes when it may move. */
export interface EntryWrite {
  resourceType: CompiledResourceType;
  entry: DirEntry;
  /** The resource after the write, when its DN may change (PUT, PATCH); undefined: no rename. */
  resource?: ScimObject | undefined;
  changes: DirChange[];
  precondition: Precondition;
  ctx: RequestContext;
  response?: ResponseShape;
}

/** The journaled modify (and rename) of an entry, answered with the resource as it is after. */
export function writeChanges(svc: ServiceContext, write: EntryWrite): Promise<ResourceResult> {
  const { resourceType: rt, entry, resource, changes, ctx } = write;
  const resourceId = entryId(rt, entry) ?? '';
  const newDn = resource ? dnForResource(rt, resource) : entry.dn;
  const renames = resource !== undefined && (!sameDn(newDn, entry.dn) || rdnValueChanged(entry.dn, newDn));
  const intent: ChangeIntent = {
    operation: 'modify',
    dn: entry.dn,
    ...(renames ? { newDn } : {}),
    ...versionBefore(rt, entry),
    resourceId,
    resourceType: rt.name,
    actor: ctx.actor,
    events: changeEvents(svc, rt, changes, renames, ctx),
  };
  return journaled(
    svc,
    intent,
    () => applyWrite(svc, write, renames ? newDn : undefined),
    (result) => ({ resourceId, ...(result.version ? { version: result.version } : {}) }),
  );
}

async function applyWrite(
  svc: ServiceContext,
  write: EntryWrite,
  newDn: string | undefined,
): Promise<ResourceResult> {
  const { resourceType: rt, entry, changes, ctx } = write;
  const response = write.response ?? {};
  let current = entry;
  if (newDn !== undefined) {
    await checkNameLength(svc, rt, newDn);
    await checkNewParent(svc, rt, entry, newDn);
  }
  // The modify goes first: it carries the If-Match assertion and the values the directory may
  // still refuse, so a failure leaves nothing written. A rename (a changed RDN source such as
  // userName; modifyDN keeps the entryUUID) follows; its usual failure, a taken name, was
  // already refused by the uniqueness check.
  if (changes.length > 0) {
    const updated = await svc.directory.modify(entry.dn, changes, {
      ...assertionFor(rt, entry, write.precondition),
      addsMayExist: true,
      returnAttributes: allReadAttributes(rt),
      binaryAttributes: rt.directory.binaryAttributes,
    });
    if (updated) current = updated;
  }
  if (newDn !== undefined) {
    await svc.directory.rename(entry.dn, newDn);
    svc.references.forget(entry.dn);
    current =
      (await svc.directory.read(newDn, allReadAttributes(rt), rt.directory.binaryAttributes)) ?? current;
  }
  return toResult(svc, rt, current, {
    projection: response.projection ?? {},
    ctx,
    withoutReferences: response.body === false,
  });
}

/**
 * A move (the DN template places entries by an attribute value) needs its new parent: checked
 * before anything is written, since the rename comes after the modify.
 */
async function checkNewParent(
  svc: ServiceContext,
  rt: CompiledResourceType,
  entry: DirEntry,
  newDn: string,
): Promise<void> {
  const parent = parentDn(newDn);
  if (sameDn(parent, parentDn(entry.dn))) return;
  if (!(await svc.directory.read(parent, []))) {
    throw ScimError.invalidValue(
      `the ${rt.name} would move to "${parent}", which does not exist in the directory (directory.dnTemplate ${rt.directory.dnTemplate})`,
    );
  }
}
