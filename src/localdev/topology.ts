/**
 * The production topology in one definition (issue 18): one directory, one Redis, N stateless
 * bridge instances and HAProxy in front, terminating TLS and checking each instance's `/ready`.
 * `npm run cluster` (src/localdev/cluster.ts) runs it as local processes; docker-compose.yml and
 * config/compose/haproxy.cfg are the same topology for Docker, and
 * test/unit/localdev/topology.test.ts fails when they drift from this file.
 */

/** How HAProxy decides that an instance may take traffic, and how each instance checks itself. */
export const HEALTH_CHECK = {
  /** 200 while the instance can serve; anything else takes it out of the rotation. */
  path: '/ready',
  intervalMs: 1_000,
  /** Consecutive failures before an instance is taken out, successes before it is put back. */
  fall: 2,
  rise: 1,
} as const;

export const TOPOLOGY = {
  /** The service names in docker-compose.yml, and the bridge names HAProxy reports. */
  directory: 'openldap',
  redis: 'redis',
  loadBalancer: 'lb',
  bridgeNames: (count: number): string[] => Array.from({ length: count }, (_, i) => `bridge-${i + 1}`),
  /** Instances in docker-compose.yml; `npm run cluster -- --instances N` may start more. */
  composeInstances: 2,
  /** The port each instance listens on inside its container. */
  bridgePort: 8080,
  /** The load balancer's TLS port (compose publishes it on 127.0.0.1). */
  loadBalancerPort: 8443,
  health: HEALTH_CHECK,
  /**
   * server.trustProxy of the instances: the addresses HAProxy connects from. Loopback for
   * `npm run cluster`; in compose, Docker's default address pool for bridge networks (no other
   * container is on the project's network).
   */
  trustedProxies: { local: ['127.0.0.1'], compose: ['172.16.0.0/12'] },
} as const;

export interface HaproxyBackend {
  name: string;
  /** host:port HAProxy connects to. */
  address: string;
}

export interface HaproxyConfigOptions {
  /** Where HAProxy listens, e.g. "127.0.0.1:8443" or ":8443". */
  bind: string;
  /** PEM file with the certificate chain and its private key. */
  certificateFile: string;
  backends: HaproxyBackend[];
  /** Where HAProxy writes its log lines ("stdout" in containers). */
  log?: string;
  /** A UNIX socket for `show stat` (which instances HAProxy counts as up); local runs only. */
  statsSocket?: string;
}

/**
 * The HAProxy configuration of the topology. TLS ends here; the instances see plain HTTP with
 * X-Forwarded-For/-Proto/-Host set (never appended to: a client's own X-Forwarded-For is
 * replaced, so the one hop the bridges trust, server.trustProxy, says the truth). Only failed
 * connections are retried on another instance (HAProxy's default retry-on): a request that
 * reached an instance is never sent twice by the balancer; clients retry with Idempotency-Key.
 */
export function haproxyConfig(options: HaproxyConfigOptions): string {
  const { path, intervalMs, fall, rise } = HEALTH_CHECK;
  return [
    '# Generated from src/localdev/topology.ts (haproxyConfig); test/unit/localdev/topology.test.ts checks it.',
    'global',
    `  log ${options.log ?? 'stdout'} format raw local0`,
    '  maxconn 4096',
    ...(options.statsSocket ? [`  stats socket ${options.statsSocket} mode 600 level operator`] : []),
    'defaults',
    '  mode http',
    '  log global',
    '  option httplog',
    '  timeout connect 2s',
    '  timeout client 60s',
    '  timeout server 60s',
    '  retries 2',
    '  option redispatch',
    'frontend scim',
    `  bind ${options.bind} ssl crt ${options.certificateFile}`,
    '  http-request set-header X-Forwarded-For %[src]',
    '  http-request set-header X-Forwarded-Proto https',
    '  http-request set-header X-Forwarded-Host %[req.hdr(host)]',
    '  default_backend bridges',
    'backend bridges',
    '  balance roundrobin',
    `  option httpchk GET ${path}`,
    '  http-check expect status 200',
    `  default-server check inter ${intervalMs}ms fall ${fall} rise ${rise}`,
    ...options.backends.map((b) => `  server ${b.name} ${b.address}`),
    '',
  ].join('\n');
}

/** The compose file's HAProxy configuration: the compose service names on the container port. */
export function composeHaproxyConfig(): string {
  return haproxyConfig({
    bind: `:${TOPOLOGY.loadBalancerPort}`,
    certificateFile: '/certs/lb.pem',
    backends: TOPOLOGY.bridgeNames(TOPOLOGY.composeInstances).map((name) => ({
      name,
      address: `${name}:${TOPOLOGY.bridgePort}`,
    })),
  });
}

/** The command each bridge container's own health check runs (the image has node, not curl). */
export function bridgeHealthCommand(): string[] {
  return [
    'CMD',
    'node',
    '-e',
    `fetch('http://127.0.0.1:${TOPOLOGY.bridgePort}${HEALTH_CHECK.path}').then(r=>process.exit(r.status===200?0:1),()=>process.exit(1))`,
  ];
}
