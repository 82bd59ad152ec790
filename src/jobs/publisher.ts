/**
 * Publishing: one BullMQ job per (event, subscribed service), in the service's own queue, with
 * jobId = eventId. BullMQ ignores an add whose jobId already exists, so publishing the same event
 * again (a commit retried by recovery) never delivers it twice while the job is retained.
 */
import { Queue } from 'bullmq';
import type { ChainableCommander, Redis } from 'ioredis';
import type { EventServiceConfig, EventsConfig } from '../config/index.ts';
import type { ChangeEvent, ChangeOrigin } from '../ports/events.ts';
import { bullPrefix, orderKey, queueName } from './keys.ts';

export interface DeliveryJobData {
  service: string;
  event: ChangeEvent;
  /** How many times the job waited for an earlier event of its resource. */
  blocked?: number;
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

/**
 * How a publish places its events: `scores` overrides the order score of each event (same units as
 * orderScore; the change feed orders by the directory's microsecond timestamps, which a batch may
 * hold several of per millisecond), `service` limits it to one service (a reconciliation).
 */
export interface PublishOptions {
  scores?: readonly number[];
  service?: string;
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
  readonly #queuedByOrigin: Record<ChangeOrigin, number> = { scim: 0, directory: 0 };

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

  /** Events this process queued, by origin (a re-publish after recovery counts again). For metrics. */
  get queuedByOrigin(): Readonly<Record<ChangeOrigin, number>> {
    return { ...this.#queuedByOrigin };
  }

  /** Each (event, subscribed service) pair, with its order set and score. */
  #targets(events: readonly ChangeEvent[], options: PublishOptions = {}) {
    const { keyPrefix, events: config } = this.#options;
    return events.flatMap((event, index) =>
      config.services
        .filter((service) => options.service === undefined || service.name === options.service)
        .filter((service) => matchesEventType(service.eventTypes, event.type))
        .map((service) => ({
          service: service.name,
          event,
          order: orderKey(keyPrefix, service.name, event.resourceType, event.resourceId),
          score: options.scores?.[index] ?? orderScore(event, index),
        })),
    );
  }

  /**
   * Adds the order entries of the events to a transaction (idempotent: ZADD NX). They must be in
   * Redis before the jobs, so a worker never sees a job whose predecessors it cannot see.
   */
  recordOrder(
    multi: ChainableCommander,
    events: readonly ChangeEvent[],
    options: PublishOptions = {},
  ): ChainableCommander {
    for (const target of this.#targets(events, options)) {
      multi.zadd(target.order, 'NX', target.score, target.event.eventId);
      multi.expire(target.order, this.#options.events.retentionSeconds);
    }
    return multi;
  }

  /** Adds the jobs (jobId = eventId: adding an existing one again is a no-op). One round trip per service. */
  async enqueue(events: readonly ChangeEvent[], options: PublishOptions = {}): Promise<void> {
    const config = this.#options.events;
    for (const event of events) this.#queuedByOrigin[event.origin]++;
    const byService = new Map<string, ChangeEvent[]>();
    for (const target of this.#targets(events, options)) {
      byService.set(target.service, [...(byService.get(target.service) ?? []), target.event]);
    }
    await Promise.all(
      [...byService].map(([service, list]) =>
        this.#queues.get(service)?.addBulk(
          list.map((event) => ({
            name: event.type,
            data: { service, event },
            opts: {
              jobId: event.eventId,
              attempts: config.maxAttempts,
              backoff: { type: 'webhook' },
              removeOnComplete: { age: config.retentionSeconds },
              removeOnFail: false,
            },
          })),
        ),
      ),
    );
  }

  /** Order entries, then jobs, for every subscribed service. Safe to call again with the same events. */
  async publish(events: readonly ChangeEvent[], options: PublishOptions = {}): Promise<void> {
    if (events.length === 0) return;
    await this.recordOrder(this.#options.connection.multi(), events, options).exec().then(failOnError);
    await this.enqueue(events, options);
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
