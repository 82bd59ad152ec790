/**
 * The bridge's Prometheus metrics (prom-client), one registry per process: a process is one
 * scrape target. Adapters do not import this module: the LDAP pool reports through an observer
 * callback in its options, and the composition root registers scrape-time sources (pool use,
 * cursor sessions, event queues), so only `http` and the root depend on prom-client
 * (docs/architecture.md §Metrics).
 */
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const registry = new Registry();
// process_* and nodejs_* (heap, event-loop lag and its percentiles, GC, handles).
collectDefaultMetrics({ register: registry });

/** Seconds: from a cached read (ms) to a deadline-bound request (tens of s). */
const LATENCY_BUCKETS = [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

export const httpRequests = new Histogram({
  name: 'scim_http_request_duration_seconds',
  help: 'HTTP requests by route template, method and status, with their latency.',
  labelNames: ['route', 'method', 'status'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const httpInFlight = new Gauge({
  name: 'scim_http_requests_in_flight',
  help: 'HTTP requests being handled now.',
  registers: [registry],
});

export const deadlineExpiries = new Counter({
  name: 'scim_http_deadline_expired_total',
  help: 'Requests answered 503 because their deadline (server.requestTimeoutMs) passed.',
  labelNames: ['route'] as const,
  registers: [registry],
});

export const idempotencyOutcomes = new Counter({
  name: 'scim_idempotency_requests_total',
  help: 'Writes with an Idempotency-Key: executed (first use), replayed (a repeat answered from the store), conflict (same key still in progress, or reused for another request).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

export const ldapOperations = new Histogram({
  name: 'scim_ldap_operation_duration_seconds',
  help: 'LDAP operations (each attempt) by kind and result (LDAP result code, transport_failure, deadline), with their latency.',
  labelNames: ['operation', 'result'] as const,
  buckets: LATENCY_BUCKETS,
  registers: [registry],
});

export const mappingReloads = new Counter({
  name: 'scim_mapping_reloads_total',
  help: 'Mapping reloads by outcome (ok, failed: the last good mapping stays in service).',
  labelNames: ['outcome'] as const,
  registers: [registry],
});

/** A scrape-time reading of the LDAP pool. */
export interface PoolUsage {
  connections: number;
  inFlight: number;
  waiting: number;
  retiring: number;
  cursorSessions: number;
}

/** A scrape-time reading of one external service's event queue. */
export interface QueueUsage {
  service: string;
  waiting: number;
  active: number;
  delayed: number;
  deadLetters: number;
  delivered: number;
  failedAttempts: number;
}

const poolSources = new Set<() => PoolUsage>();
const queueSources = new Set<() => Promise<QueueUsage[]>>();

const poolGauge = new Gauge({
  name: 'scim_ldap_pool',
  help: 'LDAP pool use: open connections, operations in flight, operations waiting for a connection with room, connections retiring, open cursor sessions.',
  labelNames: ['state'] as const,
  registers: [registry],
  collect() {
    const sum: PoolUsage = { connections: 0, inFlight: 0, waiting: 0, retiring: 0, cursorSessions: 0 };
    for (const source of poolSources) {
      const usage = source();
      for (const key of Object.keys(sum) as Array<keyof PoolUsage>) sum[key] += usage[key];
    }
    for (const [state, value] of Object.entries(sum)) this.set({ state }, value);
  },
});

const queueGauge = new Gauge({
  name: 'scim_event_queue_jobs',
  help: 'Event delivery jobs per external service and state (waiting, active, delayed, dead_letter).',
  labelNames: ['service', 'state'] as const,
  registers: [registry],
  async collect() {
    this.reset();
    for (const source of queueSources) {
      for (const queue of await source().catch(() => [])) {
        this.set({ service: queue.service, state: 'waiting' }, queue.waiting);
        this.set({ service: queue.service, state: 'active' }, queue.active);
        this.set({ service: queue.service, state: 'delayed' }, queue.delayed);
        this.set({ service: queue.service, state: 'dead_letter' }, queue.deadLetters);
        deliveries.set({ service: queue.service, outcome: 'delivered' }, queue.delivered);
        deliveries.set({ service: queue.service, outcome: 'failed_attempt' }, queue.failedAttempts);
      }
    }
  },
});

/** Counters kept by the workers in Redis (shared by all instances), read at scrape time. */
const deliveries = new Gauge({
  name: 'scim_event_deliveries',
  help: 'Event deliveries per external service since the queue was created: delivered, failed_attempt (all instances, from Redis).',
  labelNames: ['service', 'outcome'] as const,
  registers: [registry],
});

/** A scrape-time reading of the change feed (docs/architecture.md §Change feed). */
export interface FeedUsage {
  /** 1 while this process holds the feed's lease. */
  active: number;
  positionSeconds: number;
  lagSeconds: number;
  eventsByOrigin: { scim: number; directory: number };
  records: number;
  ownWrites: number;
  reconciliations: number;
}

const feedSources = new Set<() => FeedUsage>();

/** The feed of this process (one source at most in service; the sum keeps tests with several honest). */
new Gauge({
  name: 'scim_feed',
  help: 'Change feed: active (1 while this process holds the lease), position_seconds (the newest directory change handled, as Unix time), lag_seconds (behind the directory), records read, own_writes skipped (the journal published them), reconciliations run.',
  labelNames: ['state'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const source of feedSources) {
      const feed = source();
      this.inc({ state: 'active' }, feed.active);
      this.inc({ state: 'position_seconds' }, feed.positionSeconds);
      this.inc({ state: 'lag_seconds' }, feed.lagSeconds);
      this.inc({ state: 'records' }, feed.records);
      this.inc({ state: 'own_writes' }, feed.ownWrites);
      this.inc({ state: 'reconciliations' }, feed.reconciliations);
    }
  },
});

new Gauge({
  name: 'scim_events_queued',
  help: 'Events this process queued for delivery, by origin: scim (writes through the bridge, from the journal) and directory (the change feed and reconciliations).',
  labelNames: ['origin'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const source of feedSources) {
      const { scim, directory } = source().eventsByOrigin;
      this.inc({ origin: 'scim' }, scim);
      this.inc({ origin: 'directory' }, directory);
    }
  },
});

/** Registers the change feed to be read at every scrape; returns its removal. */
export function watchFeed(source: () => FeedUsage): () => void {
  feedSources.add(source);
  return () => feedSources.delete(source);
}

/** Registers a pool to be read at every scrape; returns its removal. */
export function watchPool(source: () => PoolUsage): () => void {
  poolSources.add(source);
  return () => poolSources.delete(source);
}

/** One directory server's state, as the LDAP adapter reports it (ldap/server-health.ts). */
export interface DirectoryServerUsage {
  url: string;
  role: string;
  state: 'up' | 'down';
  /** Epoch milliseconds of its last change of state. */
  since: number;
}

const serverSources = new Set<() => DirectoryServerUsage[]>();

/** Each configured directory server (docs/architecture.md §Directory failover), read at scrape time. */
const directoryServerGauge = new Gauge({
  name: 'scim_ldap_server_up',
  help: 'Each configured directory server: 1 while up, 0 while marked down (probed until it answers). Labels: its place in ldap.urls, URL and role.',
  labelNames: ['server', 'url', 'role'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const source of serverSources) {
      for (const [index, server] of source().entries()) {
        this.set(
          { server: String(index + 1), url: server.url, role: server.role },
          server.state === 'up' ? 1 : 0,
        );
      }
    }
  },
});

const directoryServerSinceGauge = new Gauge({
  name: 'scim_ldap_server_state_since_seconds',
  help: "When each configured directory server's state (scim_ldap_server_up) last changed, in Unix seconds.",
  labelNames: ['server', 'url', 'role'] as const,
  registers: [registry],
  collect() {
    this.reset();
    for (const source of serverSources) {
      for (const [index, server] of source().entries()) {
        this.set({ server: String(index + 1), url: server.url, role: server.role }, server.since / 1000);
      }
    }
  },
});

/** Registers the directory's servers to be read at every scrape; returns their removal. */
export function watchDirectoryServers(source: () => DirectoryServerUsage[]): () => void {
  serverSources.add(source);
  return () => serverSources.delete(source);
}

/** Registers event queues to be read at every scrape; returns their removal. */
export function watchQueues(source: () => Promise<QueueUsage[]>): () => void {
  queueSources.add(source);
  return () => queueSources.delete(source);
}

/** What the LDAP pool's observer receives for each attempt of an operation. */
export function observeLdapOperation(operation: string, result: string, seconds: number): void {
  ldapOperations.observe({ operation, result }, seconds);
}

// Both gauges are filled by their collect(); referenced so that linters see them used.
void poolGauge;
void directoryServerGauge;
void directoryServerSinceGauge;
void queueGauge;
