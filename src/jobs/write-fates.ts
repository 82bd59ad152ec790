/**
 * The fate of a keyed write (docs/architecture.md §Idempotency): the journal records a write's
 * Idempotency-Key claim with its intent, under `journal:fate:<scopeId>`, and keeps the outcome
 * there once the write is settled. A retry whose key's lock holder died before its answer was
 * stored asks `fateOf`: a completed write is answered as the first answer would have been, one
 * that did not happen runs again, and one still open is settled now, as recovery would settle it.
 *
 *   pending    {intentId, fingerprint}                     set with the intent (begin)
 *   completed  {completed, fingerprint, operation, type, id}  set with the commit (or by recovery)
 *   (none)                                                 deleted on abort, or when recovery finds
 *                                                          the write did not happen
 */
import type { ChainableCommander, Redis } from 'ioredis';
import type { ChangeIntent } from '../ports/events.ts';
import type { IdempotencyClaim, WriteFate, WriteFates } from '../ports/idempotency.ts';
import { type RecoveryOptions, settleLocked } from './journal.ts';
import { journalKeys } from './keys.ts';

/** The default lifetime of a fate: idempotency.ttlSeconds' default (a stored answer's lifetime). */
const DEFAULT_FATE_TTL_SECONDS = 86_400;

export interface FateOptions {
  keyPrefix: string;
  /** config idempotency.ttlSeconds: a fate is needed as long as an answer would have been kept. */
  fateTtlSeconds?: number;
}

function fateKey(options: FateOptions, claim: IdempotencyClaim): string {
  return journalKeys(options.keyPrefix).fate(claim.scopeId);
}

function ttl(options: FateOptions): number {
  return options.fateTtlSeconds ?? DEFAULT_FATE_TTL_SECONDS;
}

/** With the intent (begin): the claim names this intent until it is settled. */
export function recordPendingFate(
  multi: ChainableCommander,
  options: FateOptions,
  intentId: string,
  intent: ChangeIntent,
): void {
  const claim = intent.idempotency;
  if (!claim) return;
  const pending = { intentId, fingerprint: claim.fingerprint };
  multi.set(fateKey(options, claim), JSON.stringify(pending), 'EX', ttl(options));
}

/** With the commit (or recovery's publish): the write happened, on this resource. */
export function fateCompleted(
  multi: ChainableCommander,
  options: FateOptions,
  intent: ChangeIntent,
  resourceId: string,
): void {
  const claim = intent.idempotency;
  if (!claim) return;
  const completed = {
    completed: true,
    fingerprint: claim.fingerprint,
    operation: intent.operation,
    resourceType: intent.resourceType,
    resourceId,
  };
  multi.set(fateKey(options, claim), JSON.stringify(completed), 'EX', ttl(options));
}

/** With an abort or a discard: the write did not happen; a retry runs it. */
export function forgetFate(multi: ChainableCommander, options: FateOptions, intent: ChangeIntent): void {
  if (intent.idempotency) multi.del(fateKey(options, intent.idempotency));
}

type Recorded =
  | { state: 'pending'; intentId: string; fingerprint: string }
  | {
      state: 'completed';
      fingerprint: string;
      operation: 'add' | 'modify' | 'delete';
      resourceType: string;
      resourceId: string;
    };

const OPERATIONS = new Set(['add', 'modify', 'delete']);

/** Parses a fate record; undefined for anything else (treated as no record). */
export function parseFate(text: string | null): Recorded | undefined {
  if (text === null) return undefined;
  let value: Record<string, unknown>;
  try {
    value = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || typeof value.fingerprint !== 'string') return undefined;
  const { fingerprint } = value;
  if (value.completed === true) {
    const { operation, resourceType, resourceId } = value;
    if (
      typeof operation === 'string' &&
      OPERATIONS.has(operation) &&
      typeof resourceType === 'string' &&
      typeof resourceId === 'string' &&
      resourceId !== ''
    )
      return {
        state: 'completed',
        fingerprint,
        operation: operation as 'add' | 'modify' | 'delete',
        resourceType,
        resourceId,
      };
    return undefined;
  }
  return typeof value.intentId === 'string'
    ? { state: 'pending', intentId: value.intentId, fingerprint }
    : undefined;
}

function asFate(recorded: Recorded | undefined, claim: IdempotencyClaim): WriteFate | undefined {
  // Another request under the same key (after its record expired) is not this one's fate.
  if (!recorded || recorded.fingerprint !== claim.fingerprint) return { state: 'none' };
  if (recorded.state !== 'completed') return undefined;
  const { operation, resourceType, resourceId } = recorded;
  return { state: 'completed', operation, resourceType, resourceId };
}

/** The journal's answer to a keyed retry (see the module comment). */
export function writeFates(options: RecoveryOptions & { redis: Redis }): WriteFates {
  return {
    async fateOf(claim) {
      const key = fateKey(options, claim);
      const first = parseFate(await options.redis.get(key));
      const known = asFate(first, claim);
      if (known) return known;
      if (first?.state !== 'pending') return { state: 'none' };
      // Still open: its instance died between the intent and the commit. Settle it now.
      const settled = await settleLocked(options, first.intentId);
      if (settled === 'deferred' || settled === 'locked') return { state: 'undecided' };
      const now = asFate(parseFate(await options.redis.get(key)), claim);
      // No intent behind the pending record (settled undefined): nothing was journaled to run.
      return now ?? (settled === undefined ? { state: 'none' } : { state: 'undecided' });
    },
  };
}
