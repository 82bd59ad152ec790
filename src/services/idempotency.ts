/**
 * The idempotency store the HTTP layer drives (RFC-draft Idempotency-Key): the port's types,
 * re-exported for the layers above services, which may not import ports directly (docs/architecture.md §Layers).
 */
export type {
  BeginResult,
  IdempotencyScope,
  IdempotencyStore,
  StoredResponse,
} from '../ports/idempotency.ts';
