/**
 * The change journal: every SCIM write that reaches the directory becomes one or more events for
 * external services, delivered at least once. The intent is recorded BEFORE the directory write
 * (so a crash between the write and the publish loses nothing: recovery finds the intent and
 * checks the directory for the outcome), and committed or aborted after it.
 */

import type { IdempotencyClaim } from './idempotency.ts';

export type ChangeEventType =
  | 'created'
  | 'updated'
  | 'deactivated'
  | 'deleted'
  | 'member_added'
  | 'member_removed'
  /** A new entry held disabled until every required service confirmed was enabled. */
  | 'activated'
  /** A required service refused a new entry for good; the compensation ran. */
  | 'provisioning_failed';

/**
 * Where a change came from: a SCIM write through the bridge (journaled), or the directory itself
 * (the change feed read it from the directory's log; docs/architecture.md §Change feed).
 */
export type ChangeOrigin = 'scim' | 'directory';

export interface ChangeEvent {
  /** Stable id, chosen before the write; receivers de-duplicate on it. */
  eventId: string;
  /** `user.created`, `group.member_added`, ... (resource type in lower case, then the change). */
  type: string;
  change: ChangeEventType;
  resourceType: string;
  resourceId: string;
  /** SCIM attribute paths that changed. Names only: values (and secrets) are never included. */
  changedAttributes: string[];
  /** For membership events: ids of the members added or removed. */
  memberIds?: string[];
  /**
   * On a created event when required services must confirm first (a saga): the entry was created
   * disabled, and becomes active once they all confirmed if the client asked for active.
   */
  pendingActivation?: boolean;
  /** The authenticated client that made the change (for a directory change: the DN that bound). */
  actor: string;
  origin: ChangeOrigin;
  /** ISO 8601 time of the commit. */
  timestamp: string;
}

/** What is about to be written, recorded before the directory is touched. */
export interface ChangeIntent {
  operation: 'add' | 'modify' | 'delete';
  /** DN of the entry before the write (for add: the new DN). */
  dn: string;
  /** DN after the write when it renames the entry. */
  newDn?: string;
  /** Version attribute value before the write (modify/delete), to tell afterwards whether it happened. */
  versionBefore?: string;
  /** Known for modify/delete; for add it is learnt at commit. */
  resourceId?: string;
  resourceType: string;
  actor: string;
  /** The events to publish, without resourceId/timestamp when those are only known at commit. */
  events: Omit<ChangeEvent, 'timestamp' | 'resourceId'>[];
  /** The request's Idempotency-Key claim, so a retry can learn this write's fate (ports/idempotency.ts). */
  idempotency?: IdempotencyClaim;
}

export interface JournalEntry {
  /** The directory write succeeded: publish the events. */
  commit(outcome: { resourceId: string; version?: string }): Promise<void>;
  /** The directory refused the write (nothing changed): forget the intent. */
  abort(): Promise<void>;
}

export interface ChangeJournal {
  begin(intent: ChangeIntent): Promise<JournalEntry>;
  /** Whether a new resource of this type must wait for required services (and so start disabled). */
  confirmationRequired?(resourceType: string): boolean;
}

/** What a finished saga asks the bridge to do with the entry it held disabled. */
export interface SagaOutcome {
  resourceType: string;
  resourceId: string;
  outcome: 'confirmed' | 'failed';
  /** Enable on confirmation (the client asked for an active resource). */
  activate: boolean;
  /** The required services and, on failure, which refused and why. */
  services: string[];
  reason?: string;
}

/**
 * The current SCIM representation of a resource (with its references as ids), for provisioning a
 * SCIM service downstream; undefined when the resource no longer exists.
 */
export type ResourceSource = (
  resourceType: string,
  id: string,
) => Promise<Record<string, unknown> | undefined>;
