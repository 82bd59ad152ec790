/**
 * docker-compose.yml and config/compose/haproxy.cfg are the topology of src/localdev/topology.ts
 * for Docker users (issue 18): the same services, health checks and ports as `npm run cluster`.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import {
  bridgeHealthCommand,
  composeHaproxyConfig,
  HEALTH_CHECK,
  haproxyConfig,
  TOPOLOGY,
} from '../../../src/localdev/topology.ts';

const ROOT = path.resolve(import.meta.dirname, '../../..');
const compose = parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, any>;
};
const bridges = TOPOLOGY.bridgeNames(TOPOLOGY.composeInstances);

/** Compose durations as written in the file ("1s", "500ms") in milliseconds. */
function millis(duration: string): number {
  const match = /^(\d+)(ms|s|m)$/.exec(duration);
  if (!match) throw new Error(`unexpected compose duration ${duration}`);
  return Number(match[1]) * ({ ms: 1, s: 1000, m: 60_000 } as Record<string, number>)[match[2]!]!;
}

describe('docker-compose.yml is the topology', () => {
  it('has the directory, Redis, the bridge instances and the load balancer', () => {
    const names = Object.keys(compose.services);
    for (const name of [TOPOLOGY.directory, TOPOLOGY.redis, TOPOLOGY.loadBalancer, ...bridges])
      expect(names, name).toContain(name);
    expect(names.filter((n) => n.startsWith('bridge-')).sort()).toEqual([...bridges].sort());
  });

  it.each(bridges)('%s checks its own /ready the way HAProxy does', (name) => {
    const check = compose.services[name].healthcheck;
    expect(check.test).toEqual(bridgeHealthCommand());
    expect(millis(check.interval)).toBe(HEALTH_CHECK.intervalMs);
    expect(check.retries).toBe(HEALTH_CHECK.fall);
  });

  it.each(bridges)('%s listens on the topology port behind one trusted proxy hop', (name) => {
    const env = compose.services[name].environment;
    expect(env.SCIM_BRIDGE_SERVER_PORT).toBe(String(TOPOLOGY.bridgePort));
    expect(JSON.parse(env.SCIM_BRIDGE_SERVER_TRUST_PROXY)).toEqual(TOPOLOGY.trustedProxies.compose);
    expect(env.SCIM_BRIDGE_SERVER_PUBLIC_BASE_URL).toMatch(
      new RegExp(`^https://[^/]+:${TOPOLOGY.loadBalancerPort}/`),
    );
  });

  it('publishes only the load balancer, on its TLS port, on loopback', () => {
    const published = Object.entries(compose.services).filter(([, s]) => s.ports);
    expect(published.map(([n]) => n)).toEqual([TOPOLOGY.loadBalancer]);
    expect(compose.services[TOPOLOGY.loadBalancer].ports).toEqual([
      `127.0.0.1:${TOPOLOGY.loadBalancerPort}:${TOPOLOGY.loadBalancerPort}`,
    ]);
    expect(compose.services[TOPOLOGY.loadBalancer].depends_on).toEqual(
      expect.objectContaining(Object.fromEntries(bridges.map((b) => [b, expect.anything()]))),
    );
  });

  it('mounts config/compose/haproxy.cfg, which is the generated configuration', () => {
    expect(compose.services[TOPOLOGY.loadBalancer].volumes).toContain(
      './config/compose/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro',
    );
    const onDisk = readFileSync(path.join(ROOT, 'config/compose/haproxy.cfg'), 'utf8');
    // Regenerate with: npm run -s cluster -- --compose-haproxy-cfg > config/compose/haproxy.cfg
    expect(onDisk).toBe(composeHaproxyConfig());
  });
});

describe('haproxyConfig', () => {
  const text = haproxyConfig({
    bind: '127.0.0.1:8443',
    certificateFile: '/tmp/lb.pem',
    backends: [
      { name: 'bridge-1', address: '127.0.0.1:9001' },
      { name: 'bridge-2', address: '127.0.0.1:9002' },
    ],
  });
  it.each([
    ['TLS on the bind line', 'bind 127.0.0.1:8443 ssl crt /tmp/lb.pem'],
    ['the /ready check', `option httpchk GET ${HEALTH_CHECK.path}`],
    ['only 200 is ready', 'http-check expect status 200'],
    ['the check rhythm', `default-server check inter ${HEALTH_CHECK.intervalMs}ms fall 2 rise 1`],
    [
      "the client's X-Forwarded-For replaced, not appended to",
      'http-request set-header X-Forwarded-For %[src]',
    ],
    ['the scheme the client used', 'http-request set-header X-Forwarded-Proto https'],
    ['each backend', 'server bridge-2 127.0.0.1:9002'],
  ])('has %s', (_what, line) => {
    expect(text.split('\n').map((l) => l.trim())).toContain(line);
  });
  it('never appends to a forwarded header (option forwardfor would keep the client-sent one)', () => {
    expect(text).not.toContain('option forwardfor');
  });
  it('has no stats socket unless asked for one', () => {
    expect(text).not.toContain('stats socket');
  });
});
