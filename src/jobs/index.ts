/**
 * The events subsystem as main.ts wires it: the journal the services write through, the periodic
 * recovery of unsettled intents, the in-process workers (optional), and the queue figures for
 * /ready and the logs.
 */
import type { Redis } from 'ioredis';
import type { EventsConfig } from '../config/index.ts';
import type { ChangeJournal, ResourceSource, SagaOutcome } from '../ports/events.ts';
import type { WriteFates } from '../ports/idempotency.ts';
import { JobsAdmin } from './admin.ts';
import { type EntryProbe, type RecoveryReport, RedisChangeJournal, recoverOpenIntents } from './journal.ts';
import type { JobLog } from './log.ts';
import { EventPublisher } from './publisher.ts';
import { requiredServices, settleSagas } from './sagas.ts';
import { type RedisConnect, resolveSecrets, startWorkers, type WorkerPool } from './worker.ts';
import { writeFates } from './write-fates.ts';

export { type JobRow, JobsAdmin, type ServiceStats } from './admin.ts';
export {
  decide,
  type EntryProbe,
  type EntryState,
  RedisChangeJournal,
  recoverOpenIntents,
} from './journal.ts';
export type { JobLog } from './log.ts';
export { EventPublisher, matchesEventType } from './publisher.ts';
export { backoffDelay, DeliveryError, deliver, sign, verifySignature } from './webhooks.ts';
export { type RedisConnect, resolveSecrets, startWorkers, type WorkerPool } from './worker.ts';

const SUMMARY_LOG_INTERVAL_MS = 60_000;
const SAGA_SETTLE_INTERVAL_MS = 500;
/** A service whose oldest pending delivery is older than this shows in /ready's warnings. */
const BACKLOG_WARNING_MS = 60_000;

export interface EventsOptions {
  events: EventsConfig;
  keyPrefix: string;
  /** Builds the queues' and workers' connections (src/redis-clients.ts). */
  connect: RedisConnect;
  /** The server's shared client: the journal writes through it (fails fast when Redis is down). */
  redis: Redis;
  /** Settles intents against the directory; absent in a worker-only process (no recovery there). */
  probe?: EntryProbe;
  /** How long a keyed write's fate is kept (config idempotency.ttlSeconds). */
  idempotencyTtlSeconds?: number;
  /** Replicas that must hold each intent before the directory write (config redis.replicasToAcknowledge). */
  journalReplicas?: { count: number; timeoutMs: number };
  /** Start the delivery workers in this process. */
  workers: boolean;
  /** Reads resources for SCIM targets downstream (events.services kind scim). */
  source?: ResourceSource;
  /** Applies a finished provisioning saga (enable, or compensate); absent in a worker-only process. */
  settleSaga?: (outcome: SagaOutcome) => Promise<void>;
  log: JobLog;
}

export interface EventsRuntime {
  journal: ChangeJournal;
  /** The publisher SCIM writes go through; the change feed publishes through it too. */
  publisher: EventPublisher;
  admin: JobsAdmin;
  /** The fate of a keyed write whose instance died (absent without a probe of the directory). */
  fates?: WriteFates;
  /** Settles the intents older than the grace period now (also runs on a timer). */
  recover(): Promise<RecoveryReport>;
  /** Services with dead letters or an old backlog, and unsettled journal intents, for /ready. */
  warnings(): Promise<string[]>;
  stop(): Promise<void>;
}

export function startEvents(options: EventsOptions): EventsRuntime {
  const { events, keyPrefix, log } = options;
  // Checked at start-up, even without local workers: a service no worker could sign for is a mistake.
  const secrets = resolveSecrets(events.services);
  const connection = options.connect('events');
  connection.on('error', (error) => log.warn({ err: error.message }, 'events: redis connection problem'));
  const publisher = new EventPublisher({ connection, keyPrefix, events });
  const requiredFor = (eventType: string) => requiredServices(events, eventType);
  const { journal, fates } = journalFor(options, publisher, requiredFor);
  const admin = new JobsAdmin(connection, keyPrefix, events.services);
  const pool: WorkerPool | undefined = options.workers
    ? startWorkers({
        connect: options.connect,
        keyPrefix,
        events,
        secrets,
        log,
        ...(options.source ? { source: options.source } : {}),
      })
    : undefined;
  const recovery = intentRecovery(options, publisher, requiredFor);
  const quietRecover = () =>
    void recovery
      .recover()
      .catch((error: Error) => log.warn({ err: error.message }, 'events: journal recovery failed'));
  quietRecover();
  const recoveryTimer = setInterval(quietRecover, events.recoveryIntervalMs);
  recoveryTimer.unref();
  const sagas = startSagaSettling(options);
  const summaryTimer = startQueueSummary(admin, log);

  let stopping: Promise<void> | undefined;
  const stopAll = async (): Promise<void> => {
    clearInterval(recoveryTimer);
    await sagas.stop();
    clearInterval(summaryTimer);
    await recovery.running()?.catch(() => undefined);
    await pool?.close();
    await admin.close();
    await publisher.close();
    await connection.quit().catch(() => connection.disconnect());
  };
  return {
    journal,
    publisher,
    admin,
    ...(fates ? { fates } : {}),
    recover: recovery.recover,
    warnings: () => queueWarnings(admin, events),
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

/**
 * The journal the services write through, and the fates of keyed writes it records
 * (jobs/write-fates.ts; absent without a probe of the directory to settle them with).
 */
function journalFor(
  options: EventsOptions,
  publisher: EventPublisher,
  requiredFor: (eventType: string) => string[],
): { journal: RedisChangeJournal; fates: WriteFates | undefined } {
  const { redis, keyPrefix, log, probe } = options;
  const fateTtl = options.idempotencyTtlSeconds ? { fateTtlSeconds: options.idempotencyTtlSeconds } : {};
  const replicas = options.journalReplicas ? { replicas: options.journalReplicas } : {};
  const journal = new RedisChangeJournal({
    redis,
    keyPrefix,
    publisher,
    log,
    requiredFor,
    ...fateTtl,
    ...replicas,
  });
  const fates = probe
    ? writeFates({ redis, keyPrefix, publisher, requiredFor, probe, graceMs: 0, log, ...fateTtl })
    : undefined;
  return { journal, fates };
}

/** The queue figures in the log every minute. */
function startQueueSummary(admin: JobsAdmin, log: JobLog): NodeJS.Timeout {
  const summaryTimer = setInterval(() => {
    admin
      .stats()
      .then((services) => log.info({ services }, 'events: delivery queues'))
      .catch(() => undefined);
  }, SUMMARY_LOG_INTERVAL_MS);
  summaryTimer.unref();
  return summaryTimer;
}

/** Journal recovery (docs/architecture.md §Writes and events), one run at a time. */
function intentRecovery(
  options: EventsOptions,
  publisher: EventPublisher,
  requiredFor: (eventType: string) => string[],
): { recover(): Promise<RecoveryReport>; running(): Promise<RecoveryReport> | undefined } {
  const { events, keyPrefix, log } = options;
  let recovering: Promise<RecoveryReport> | undefined;
  const recover = (): Promise<RecoveryReport> => {
    const probe = options.probe;
    if (!probe) return Promise.resolve({ published: 0, discarded: 0, deferred: 0 });
    recovering ??= recoverOpenIntents({
      redis: options.redis,
      keyPrefix,
      publisher,
      probe,
      requiredFor,
      graceMs: events.recoveryGraceMs,
      log,
    })
      .then((report) => {
        if (report.published + report.discarded + report.deferred > 0)
          log.info({ ...report }, 'events: journal recovery settled unfinished writes');
        return report;
      })
      .finally(() => {
        recovering = undefined;
      });
    return recovering;
  };
  return { recover, running: () => recovering };
}

/** Finished sagas are applied promptly (a new user waits disabled until then). */
function startSagaSettling(options: EventsOptions): { stop(): Promise<void> } {
  let settling: Promise<unknown> | undefined;
  const sagaTimer = setInterval(() => {
    const apply = options.settleSaga;
    if (!apply || settling) return;
    settling = settleSagas(options.redis, options.keyPrefix, apply, options.log)
      .catch((error: Error) => options.log.warn({ err: error.message }, 'events: settling sagas failed'))
      .finally(() => {
        settling = undefined;
      });
  }, SAGA_SETTLE_INTERVAL_MS);
  sagaTimer.unref();
  return {
    async stop() {
      clearInterval(sagaTimer);
      await settling;
    },
  };
}

/**
 * Services with dead letters or an old backlog, and unsettled journal intents, for /ready, which
 * must answer promptly even when Redis does not.
 */
function queueWarnings(admin: JobsAdmin, events: EventsConfig): Promise<string[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('no answer within 1500 ms')), 1500);
  });
  return Promise.race([
    admin.problems({
      backlogMs: BACKLOG_WARNING_MS,
      journalMs: events.recoveryGraceMs + events.recoveryIntervalMs * 2,
    }),
    deadline,
  ])
    .catch((error: Error) => [`events: queue figures unavailable (${error.message})`])
    .finally(() => clearTimeout(timer));
}
