/**
 * Inspection and repair of the delivery queues, for the CLI (`jobs list|retry|replay`) and /ready.
 * A dead letter is a job in BullMQ's failed state (kept until retried or removed).
 */
import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { EventServiceConfig } from '../config/index.ts';
import { openIntents } from './journal.ts';
import { bullPrefix, LATENCY_SAMPLES, latencyKey, queueName, statsKey } from './keys.ts';
import type { DeliveryJobData } from './publisher.ts';

export interface JobRow {
  service: string;
  jobId: string;
  eventId: string;
  type: string;
  resourceType: string;
  resourceId: string;
  state: string;
  attemptsMade: number;
  failedReason?: string;
  /** When the job was created (ms). */
  createdAt: number;
  /** Who made the change, where it came from, and which attributes it changed (names only). */
  actor: string;
  origin: string;
  changedAttributes: string[];
  /** When the job was last finished, delivered or dead-lettered (ms). */
  finishedAt?: number;
}

/** The states a job can be found in, pending first. */
const ALL_STATES = ['failed', 'waiting', 'active', 'delayed', 'completed'] as const;

export interface ServiceStats {
  service: string;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  completed: number;
  delivered: number;
  failedAttempts: number;
  lastLatencyMs?: number;
  /** Percentiles over the latest deliveries (ms from the change to the receiver's answer). */
  latencyP50Ms?: number;
  latencyP95Ms?: number;
  lastDeliveredAt?: number;
  /** Age of the oldest job waiting or delayed (ms). */
  oldestPendingMs?: number;
}

export class JobsAdmin {
  readonly #redis: Redis;
  readonly #keyPrefix: string;
  readonly #queues: Map<string, Queue<DeliveryJobData>>;

  constructor(redis: Redis, keyPrefix: string, services: readonly EventServiceConfig[]) {
    this.#redis = redis;
    this.#keyPrefix = keyPrefix;
    this.#queues = new Map(
      services.map((s) => [
        s.name,
        new Queue<DeliveryJobData>(queueName(s.name), { connection: redis, prefix: bullPrefix(keyPrefix) }),
      ]),
    );
  }

  /** The configured services' names, in configuration order. */
  services(): string[] {
    return [...this.#queues.keys()];
  }

  /**
   * Jobs of every service (or of `service` only): the dead letters only with `failed`, else
   * everything not yet delivered.
   */
  async list(options: { failed?: boolean; limit?: number; service?: string } = {}): Promise<JobRow[]> {
    const limit = options.limit ?? 100;
    const states = options.failed
      ? (['failed'] as const)
      : (['failed', 'waiting', 'active', 'delayed'] as const);
    const rows: JobRow[] = [];
    for (const [service, queue] of this.#queues) {
      if (options.service !== undefined && service !== options.service) continue;
      for (const state of states) {
        const jobs = await queue.getJobs([state], 0, limit - 1, true);
        for (const job of jobs) if (job) rows.push(toRow(service, state, job));
      }
    }
    return rows.sort((a, b) => a.createdAt - b.createdAt).slice(0, limit);
  }

  /**
   * The events of one resource the queues still hold (pending, dead-lettered, and delivered ones
   * kept for events.retentionSeconds), newest first, one row per service. Bounded: only the `scan`
   * newest jobs of each state and service are looked at, so on a busy bridge older events of a
   * resource fall out of view (there is no per-resource index).
   */
  async eventsOf(
    resourceType: string,
    resourceId: string,
    options: { limit?: number; scan?: number } = {},
  ): Promise<JobRow[]> {
    const scan = options.scan ?? 1000;
    const wantedType = resourceType.toLowerCase();
    const rows: JobRow[] = [];
    for (const [service, queue] of this.#queues) {
      for (const state of ALL_STATES) {
        for (const job of await queue.getJobs([state], 0, scan - 1, false)) {
          const event = job?.data.event;
          if (job && event?.resourceId === resourceId && event.resourceType.toLowerCase() === wantedType)
            rows.push(toRow(service, state, job));
        }
      }
    }
    return rows.sort((a, b) => b.createdAt - a.createdAt).slice(0, options.limit ?? 50);
  }

  /** Retries one dead-lettered job (by job id = event id) in every service where it failed. */
  async retry(jobId: string): Promise<number> {
    let count = 0;
    for (const queue of this.#queues.values()) {
      const job = await queue.getJob(jobId);
      if (job && (await job.getState()) === 'failed') {
        await job.retry('failed');
        count++;
      }
    }
    return count;
  }

  async retryAllFailed(): Promise<number> {
    let count = 0;
    for (const queue of this.#queues.values()) {
      for (;;) {
        const jobs = await queue.getJobs(['failed'], 0, 499);
        if (jobs.length === 0) break;
        for (const job of jobs) {
          if (!job) continue;
          await job.retry('failed');
          count++;
        }
      }
    }
    return count;
  }

  /**
   * Delivers an event again (same event id: receivers that de-duplicate ignore it unless they
   * dropped it) to every service that has it: delivered or dead-lettered jobs go back to waiting;
   * a job still pending is left alone. Returns how many were re-queued.
   */
  async replay(eventId: string): Promise<number> {
    let count = 0;
    for (const queue of this.#queues.values()) {
      const job = await queue.getJob(eventId);
      if (!job) continue;
      const state = await job.getState();
      if (state === 'completed' || state === 'failed') {
        await job.retry(state);
        count++;
      }
    }
    return count;
  }

  async stats(): Promise<ServiceStats[]> {
    const out: ServiceStats[] = [];
    for (const [service, queue] of this.#queues) {
      const counts = await queue.getJobCounts(
        'waiting',
        'active',
        'delayed',
        'failed',
        'completed',
        'prioritized',
      );
      const stats = await this.#redis.hgetall(statsKey(this.#keyPrefix, service));
      const latencies = (
        await this.#redis.lrange(latencyKey(this.#keyPrefix, service), 0, LATENCY_SAMPLES - 1)
      )
        .map(Number)
        .sort((a, b) => a - b);
      const percentile = (p: number) =>
        latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * p))];
      const oldest = [
        ...(await queue.getJobs(['waiting'], 0, 0, true)),
        ...(await queue.getJobs(['delayed'], 0, 0, true)),
      ]
        .filter((j): j is Job<DeliveryJobData> => j !== undefined)
        .map((j) => j.timestamp);
      out.push({
        service,
        waiting: (counts.waiting ?? 0) + (counts.prioritized ?? 0),
        active: counts.active ?? 0,
        delayed: counts.delayed ?? 0,
        failed: counts.failed ?? 0,
        completed: counts.completed ?? 0,
        delivered: Number(stats.delivered ?? 0),
        failedAttempts: Number(stats.failedAttempts ?? 0),
        ...(stats.lastLatencyMs ? { lastLatencyMs: Number(stats.lastLatencyMs) } : {}),
        ...(latencies.length > 0 ? { latencyP50Ms: percentile(0.5), latencyP95Ms: percentile(0.95) } : {}),
        ...(stats.lastDeliveredAt ? { lastDeliveredAt: Number(stats.lastDeliveredAt) } : {}),
        ...(oldest.length > 0 ? { oldestPendingMs: Date.now() - Math.min(...oldest) } : {}),
      });
    }
    return out;
  }

  /**
   * Lines for /ready's warnings: a service with dead letters or a backlog older than
   * `backlogMs` (with its queue depth, failures and last latency), and journal intents left
   * unsettled longer than `journalMs`. Healthy queues give no line (a warning marks /ready degraded).
   */
  async problems(options: { backlogMs: number; journalMs: number }): Promise<string[]> {
    const lines = (await this.stats())
      .filter((s) => s.failed > 0 || (s.oldestPendingMs ?? 0) > options.backlogMs)
      .map(
        (s) =>
          `events → ${s.service}: ${s.failed} dead-lettered, ${s.waiting} waiting, ${s.active} active, ${s.delayed} delayed` +
          (s.oldestPendingMs !== undefined
            ? `, oldest pending ${Math.round(s.oldestPendingMs / 1000)} s`
            : '') +
          `; ${s.delivered} delivered, ${s.failedAttempts} failed attempts` +
          (s.latencyP50Ms !== undefined
            ? `, delivery latency p50 ${s.latencyP50Ms} ms, p95 ${s.latencyP95Ms} ms (last ${latencies(s)})`
            : ''),
      );
    const open = await openIntents(this.#redis, this.#keyPrefix);
    if ((open.oldestMs ?? 0) > options.journalMs)
      lines.push(
        `events journal: ${open.count} write(s) not yet settled, oldest ${Math.round((open.oldestMs ?? 0) / 1000)} s (is the directory reachable?)`,
      );
    return lines;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
  }
}

function latencies(s: ServiceStats): string {
  return s.lastLatencyMs === undefined ? 'n/a' : `${s.lastLatencyMs} ms`;
}

function toRow(service: string, state: string, job: Job<DeliveryJobData>): JobRow {
  const event = job.data.event;
  return {
    service,
    jobId: job.id ?? '',
    eventId: event.eventId,
    type: event.type,
    resourceType: event.resourceType,
    resourceId: event.resourceId,
    state,
    attemptsMade: job.attemptsMade,
    ...(job.failedReason ? { failedReason: job.failedReason } : {}),
    createdAt: job.timestamp,
    actor: event.actor,
    origin: event.origin,
    changedAttributes: event.changedAttributes ?? [],
    ...(job.finishedOn ? { finishedAt: job.finishedOn } : {}),
  };
}
