/**
 * Redis key and queue names of the events subsystem, in one place so the journal, the publisher,
 * the workers and the CLI agree. Every key starts with the configured `redis.keyPrefix`.
 */

/** BullMQ's own prefix (its keys are `<prefix>:<queue>:...`). */
export function bullPrefix(keyPrefix: string): string {
  return `${keyPrefix}bull`;
}

/** One delivery queue per service: a slow or failing receiver never holds up another. */
export function queueName(service: string): string {
  return `webhook-${service}`;
}

export function journalKeys(keyPrefix: string) {
  return {
    /** Sorted set of intents neither settled nor forgotten, scored by creation time (ms). */
    open: `${keyPrefix}journal:open`,
    intent: (id: string) => `${keyPrefix}journal:intent:${id}`,
    /** Short lock so only one instance settles an intent at a time. */
    lock: (id: string) => `${keyPrefix}journal:lock:${id}`,
    /** A keyed write's fate by its Idempotency-Key claim (jobs/write-fates.ts). */
    fate: (scopeId: string) => `${keyPrefix}journal:fate:${scopeId}`,
  };
}

/**
 * Per (service, resource) sorted set of event ids not yet delivered nor dead-lettered, scored by
 * commit time: a worker delivers an event only when it is the head of its resource's set.
 */
export function orderKey(
  keyPrefix: string,
  service: string,
  resourceType: string,
  resourceId: string,
): string {
  return `${keyPrefix}events:order:${service}:${resourceType}:${resourceId}`;
}

/** Hash of delivery counters and the last latency per service (shared by all instances). */
export function statsKey(keyPrefix: string, service: string): string {
  return `${keyPrefix}events:stats:${service}`;
}

/** Capped list of the latest delivery latencies (ms, change to the receiver's answer) per service. */
export function latencyKey(keyPrefix: string, service: string): string {
  return `${keyPrefix}events:latency:${service}`;
}

/** How many latencies are kept for the percentiles. */
export const LATENCY_SAMPLES = 500;
