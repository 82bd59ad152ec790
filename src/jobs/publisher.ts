/**
 * Publishing: one BullMQ job per (event, subscribed service), in the service's own queue, with
 * jobId = eventId. BullMQ ignores an add whose jobId already exists, so publishing the same event
 * again (a commit retried by recovery) never delivers it twice while the job is retained.
 */
import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EventServiceConfig, EventsConfig } from '../config/index.ts';
import type { ChangeEvent } from '../ports/events.ts';
import { bullPrefix, orderKey, queueName } from './keys.ts';

export interface DeliveryJobData {
  service: string;
  event: ChangeEvent;
}

/** `user.*` matches `user.created`; `*.deleted` matches `group.deleted`; `*` matches everything. */
export function matchesEventType(patterns: readonly string[], type: string): boolean {
  return patterns.some((pattern) => {
    const regex = new RegExp(
      `^${pattern
        .split('*')
        .map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
        .join('[^.]*')}$`,
    );
    return pattern === '*' || regex.test(type);
  });
}

/** Delivery order within one resource: commit time, then position within the commit. */
export function orderScore(event: ChangeEvent, index: number): number {
  return Date.parse(event.timestamp) * 1000 + Math.min(index, 999);
}

export interface PublisherOptions {
  /** Connection for the queues and the order sets (not a blocking one). */
  connection: Redis;
  keyPrefix: string;
  events: Pick<EventsConfig, 'services' | 'maxAttempts' | 'retentionSeconds'>;
}

export class EventPublisher {
  readonly #options: PublisherOptions;
  readonly #queues = new Map<string, Queue<DeliveryJobData>>();

  constructor(options: PublisherOptions) {
    this.#options = options;
    for (const service of options.events.services) {
      this.#queues.set(
        service.name,
        new Queue<DeliveryJobData>(queueName(service.name), {
          connection: options.connection,
          prefix: bullPrefix(options.keyPrefix),
        }),
      );
    }
  }

  get services(): readonly EventServiceConfig[] {
    return this.#options.events.services;
  }

  /**
   * Enqueues every event for every service that subscribed to its type. The order entry goes in
   * before the job, so a worker never sees a job of a resource whose predecessors it cannot see.
   * Safe to call again with the same events.
   */
  async publish(events: readonly ChangeEvent[]): Promise<void> {
    const { connection, keyPrefix, events: config } = this.#options;
    for (const [index, event] of events.entries()) {
      for (const service of config.services) {
        if (!matchesEventType(service.eventTypes, event.type)) continue;
        const queue = this.#queues.get(service.name);
        if (!queue) continue;
        const order = orderKey(keyPrefix, service.name, event.resourceType, event.resourceId);
        await connection
          .multi()
          .zadd(order, 'NX', orderScore(event, index), event.eventId)
          .expire(order, config.retentionSeconds)
          .exec()
          .then(failOnError);
        await queue.add(
          event.type,
          { service: service.name, event },
          {
            jobId: event.eventId,
            attempts: config.maxAttempts,
            backoff: { type: 'webhook' },
            removeOnComplete: { age: config.retentionSeconds },
            removeOnFail: false,
          },
        );
      }
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
  }
}

/** ioredis reports a failed command inside MULTI as an [error, result] pair, not a rejection. */
export function failOnError(results: [Error | null, unknown][] | null): [Error | null, unknown][] {
  if (results === null) throw new Error('redis transaction aborted');
  for (const [error] of results) if (error) throw error;
  return results;
}
