/**
 * The delivery workers: one BullMQ Worker per service (its own concurrency and rate limit), in the
 * server process or in `scim-ldap-bridge worker` processes — any number, all sharing the queues.
 *
 * Ordering per resource: the publisher put each event id into the sorted set of its
 * (service, resource), scored by commit time. A worker delivers an event only when it is the head
 * of that set; otherwise it puts the job back as delayed and tries again shortly. The head leaves
 * the set when delivered or dead-lettered, so a retrying event holds back the later events of its
 * resource (and only of its resource). A head whose job no longer exists (removed by hand, or a
 * publish that died between the two writes) is dropped after a minute.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { DelayedError, type Job, Queue, UnrecoverableError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import {
  ConfigError,
  type ConfigProblem,
  type EventServiceConfig,
  type EventsConfig,
} from '../config/index.ts';
import type { ChangeEvent, ResourceSource } from '../ports/events.ts';
import { bullPrefix, LATENCY_SAMPLES, latencyKey, orderKey, queueName, statsKey } from './keys.ts';
import { type JobLog, silentLog } from './log.ts';
import type { DeliveryJobData } from './publisher.ts';
import { markSagaDelivery } from './sagas.ts';
import { provision } from './scim-target.ts';
import { backoffDelay, DeliveryError, deliver } from './webhooks.ts';

/** Each service's HMAC key, from `secret` or `secretFile`. Throws ConfigError when one is missing. */
export function resolveSecrets(
  services: readonly EventServiceConfig[],
  cwd = process.cwd(),
): Map<string, string> {
  const secrets = new Map<string, string>();
  const problems: ConfigProblem[] = [];
  for (const [index, service] of services.entries()) {
    let secret = service.secret;
    if (secret === undefined && service.secretFile !== undefined) {
      try {
        secret = readFileSync(path.resolve(cwd, service.secretFile), 'utf8').replace(/\r?\n$/, '');
      } catch (error) {
        problems.push({
          setting: `events.services[${index}].secretFile`,
          source: 'configuration',
          text: `cannot read '${service.secretFile}' (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
        });
        continue;
      }
    }
    if (!secret || secret.length < 16) {
      problems.push({
        setting: `events.services[${index}].secret`,
        source: 'configuration',
        text: `service "${service.name}" has no signing secret of at least 16 characters; expected secret or secretFile`,
      });
      continue;
    }
    secrets.set(service.name, secret);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return secrets;
}

/** A head whose job is gone is dropped after this long. */
const ORPHAN_HEAD_MS = 60_000;
/** How long a job waits before looking again when an earlier event of its resource is pending. */
const BLOCKED_DELAY_MS = 250;
const BLOCKED_DELAY_MAX_MS = 5_000;

/**
 * Builds an ioredis client: `events` for the server's queue commands (failing fast), `blocking`
 * for BullMQ workers (which need `maxRetriesPerRequest: null`). Given by the composition root
 * (src/redis-clients.ts).
 */
export type RedisConnect = (role: 'events' | 'blocking') => Redis;

export interface WorkerPoolOptions {
  /** Reads resources for SCIM targets; a process without it leaves their jobs to one that has it. */
  source?: ResourceSource;
  /** Builds this pool's connections (the composition root's one place for ioredis clients). */
  connect: RedisConnect;
  keyPrefix: string;
  events: EventsConfig;
  secrets: ReadonlyMap<string, string>;
  log?: JobLog;
}

export interface WorkerPool {
  close(): Promise<void>;
}

export function startWorkers(options: WorkerPoolOptions): WorkerPool {
  const log = options.log ?? silentLog;
  // BullMQ's workers need connections that retry forever (maxRetriesPerRequest: null).
  const connect = () => options.connect('blocking');
  const connections: Redis[] = [];
  const command = connect();
  connections.push(command);
  command.on('error', (error) => log.warn({ err: error.message }, 'events: worker redis connection problem'));
  const closers: (() => Promise<void>)[] = [];

  for (const service of options.events.services) {
    const secret = options.secrets.get(service.name);
    if (secret === undefined) continue;
    if (service.kind === 'scim' && !options.source) {
      log.info({ service: service.name }, 'events: SCIM target left to processes that read the directory');
      continue;
    }
    const queue = new Queue<DeliveryJobData>(queueName(service.name), {
      connection: command,
      prefix: bullPrefix(options.keyPrefix),
    });
    const blocking = connect();
    connections.push(blocking);
    blocking.on('error', () => undefined);
    const context: ServiceContext = {
      service,
      deliver: deliveryFor(service, secret, command, options),
      command,
      queue,
      keyPrefix: options.keyPrefix,
      log,
    };
    const worker = serviceWorker(context, blocking, options.events);
    closers.push(() => closeServiceWorker(context, worker, blocking));
  }

  return {
    async close() {
      await Promise.allSettled(closers.map((c) => c()));
      await Promise.allSettled(connections.map((c) => c.quit().catch(() => c.disconnect())));
    },
  };
}

/** How one service's events are delivered: a signed webhook POST, or provisioning into a SCIM service. */
function deliveryFor(
  service: EventServiceConfig,
  secret: string,
  command: Redis,
  options: WorkerPoolOptions,
): (event: ChangeEvent, attempt: number) => Promise<number> {
  const source = options.source;
  if (service.kind === 'scim' && source) {
    const target = {
      service: service.name,
      url: service.url,
      token: secret,
      timeoutMs: service.timeoutMs,
      redis: command,
      keyPrefix: options.keyPrefix,
      source,
    };
    return (event) => provision(target, event);
  }
  return (event, attempt) =>
    deliver({ url: service.url, secret, timeoutMs: service.timeoutMs }, event, attempt);
}

/** What the delivery of one service's events works with. */
interface ServiceContext {
  service: EventServiceConfig;
  deliver: (event: ChangeEvent, attempt: number) => Promise<number>;
  /** The shared command connection. */
  command: Redis;
  queue: Queue<DeliveryJobData>;
  keyPrefix: string;
  log: JobLog;
}

function serviceWorker(
  context: ServiceContext,
  blocking: Redis,
  events: EventsConfig,
): Worker<DeliveryJobData, number> {
  const { service, keyPrefix, log } = context;
  const worker = new Worker<DeliveryJobData, number>(
    queueName(service.name),
    (job, token) => processDelivery(context, job, token),
    {
      connection: blocking,
      prefix: bullPrefix(keyPrefix),
      concurrency: service.concurrency,
      limiter: { max: service.ratePerSecond, duration: 1000 },
      // A worker that dies mid-delivery leaves its job active: another worker takes it over once
      // the lock (renewed every lockDuration/2 while alive) has lapsed. Deliveries are idempotent
      // by event id, so a job may stall any number of times without being dead-lettered.
      lockDuration: Math.max(10_000, service.timeoutMs * 2),
      stalledInterval: 5_000,
      maxStalledCount: 1_000,
      settings: {
        backoffStrategy: (attemptsMade, _type, error) =>
          backoffDelay(attemptsMade, events.backoffBaseMs, events.backoffMaxMs, error),
      },
    },
  );
  worker.on('error', (error) =>
    log.warn({ service: service.name, err: error.message }, 'events: worker problem'),
  );
  return worker;
}

async function closeServiceWorker(
  { service, queue, log }: ServiceContext,
  worker: Worker<DeliveryJobData, number>,
  blocking: Redis,
): Promise<void> {
  // Deliveries in flight may finish (they are bounded by timeoutMs); a worker that cannot
  // close (Redis gone or replaced underneath it) is closed by force: its jobs are taken over
  // by another worker through the stalled-job check.
  const graceful = await Promise.race([
    worker.close().then(() => true),
    new Promise<false>((resolve) =>
      setTimeout(() => resolve(false), Math.min(service.timeoutMs + 1000, 5000)).unref(),
    ),
  ]);
  if (!graceful) {
    log.warn({ service: service.name }, 'events: worker did not stop in time; closing it by force');
    blocking.disconnect();
    await Promise.race([worker.close(true), new Promise((resolve) => setTimeout(resolve, 1000).unref())]);
  }
  await queue.close();
}

/** One job: delivered when it heads its resource's order, else put back as delayed. */
async function processDelivery(
  context: ServiceContext,
  job: Job<DeliveryJobData>,
  token?: string,
): Promise<number> {
  const { command, queue, keyPrefix, service } = context;
  const { event } = job.data;
  const order = orderKey(keyPrefix, service.name, event.resourceType, event.resourceId);
  if (!(await isHead(command, queue, order, event.eventId))) {
    // Looks again soon, then less and less often (up to every few seconds) while the
    // earlier event is still being retried.
    const blocked = (job.data.blocked ?? 0) + 1;
    await job.updateData({ ...job.data, blocked });
    const wait = Math.min(BLOCKED_DELAY_MAX_MS, BLOCKED_DELAY_MS * 2 ** Math.min(blocked - 1, 8));
    await job.moveToDelayed(Date.now() + Math.round(wait / 2 + (Math.random() * wait) / 2), token);
    throw new DelayedError();
  }
  try {
    const status = await context.deliver(event, job.attemptsMade + 1);
    await recordDelivered(context, job, order, status);
    return status;
  } catch (error) {
    throw await recordFailure(context, job, order, error);
  }
}

/** A delivered event leaves its resource's order; statistics and the saga learn of it. */
async function recordDelivered(
  { service, command, keyPrefix, log }: ServiceContext,
  job: Job<DeliveryJobData>,
  order: string,
  status: number,
): Promise<void> {
  const { event } = job.data;
  const latencyMs = Date.now() - Date.parse(event.timestamp);
  await command
    .multi()
    .zrem(order, event.eventId)
    .hincrby(statsKey(keyPrefix, service.name), 'delivered', 1)
    .lpush(latencyKey(keyPrefix, service.name), String(latencyMs))
    .ltrim(latencyKey(keyPrefix, service.name), 0, LATENCY_SAMPLES - 1)
    .hset(statsKey(keyPrefix, service.name), {
      lastLatencyMs: String(latencyMs),
      lastDeliveredAt: String(Date.now()),
    })
    .exec();
  if (service.required) await markSagaDelivery(command, keyPrefix, event, service.name, { ok: true });
  log.debug(
    { service: service.name, eventId: event.eventId, type: event.type, status, latencyMs },
    'event delivered',
  );
}

/**
 * A failed attempt: counted, and on the last attempt (or a permanent failure) dead-lettered,
 * leaving its resource's order. Returns the error for BullMQ (UnrecoverableError: no retry).
 */
async function recordFailure(
  { service, command, keyPrefix, log }: ServiceContext,
  job: Job<DeliveryJobData>,
  order: string,
  error: unknown,
): Promise<Error> {
  const { event } = job.data;
  const failure =
    error instanceof DeliveryError ? error : new DeliveryError(String(error), { permanent: false });
  const final = failure.permanent || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
  await command.hincrby(statsKey(keyPrefix, service.name), 'failedAttempts', 1).catch(() => undefined);
  if (!final) {
    log.warn(
      {
        service: service.name,
        eventId: event.eventId,
        status: failure.status,
        attempt: job.attemptsMade + 1,
        err: failure.message,
      },
      'event delivery failed; retrying with backoff',
    );
    return failure;
  }
  await command.zrem(order, event.eventId).catch(() => undefined);
  if (service.required) {
    await markSagaDelivery(command, keyPrefix, event, service.name, {
      ok: false,
      reason: failure.status ? `HTTP ${failure.status}` : failure.message,
    }).catch(() => undefined);
  }
  log.error(
    {
      service: service.name,
      eventId: event.eventId,
      type: event.type,
      status: failure.status,
      attempts: job.attemptsMade + 1,
      err: failure.message,
    },
    'event dead-lettered (scim-ldap-bridge jobs list --failed; jobs retry <id>)',
  );
  return failure.permanent ? new UnrecoverableError(failure.message) : failure;
}

/** True when no earlier event of the same (service, resource) is still pending. */
async function isHead(
  redis: Redis,
  queue: Queue<DeliveryJobData>,
  order: string,
  eventId: string,
): Promise<boolean> {
  for (let round = 0; round < 20; round++) {
    const [head, score] = await redis.zrange(order, '0', '0', 'WITHSCORES');
    if (head === undefined || head === eventId) return true;
    const job = await queue.getJob(head);
    const state = job ? await job.getState() : undefined;
    const orphan =
      job === undefined
        ? Date.now() - Number(score) / 1000 > ORPHAN_HEAD_MS
        : state === 'failed' || state === 'completed';
    if (!orphan) return false;
    await redis.zrem(order, head);
  }
  return false;
}
