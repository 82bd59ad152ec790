/**
 * `npm run cluster [-- --instances N] [-- --port P]`: the production topology on loopback, without
 * Docker (src/localdev/cluster.ts): slapd with the sample directory, redis-server with AOF, N
 * bridge instances (default 2) and HAProxy terminating TLS in front, health-checking /ready.
 * Prints the URL, the token and the certificate file to trust; stops everything on Ctrl-C.
 * Needs the Debian packages slapd, ldap-utils, redis-server, haproxy and openssl.
 * `npm run cluster -- --compose-haproxy-cfg > config/compose/haproxy.cfg` regenerates the compose
 * file's HAProxy configuration from the same definition.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startCluster } from '../src/localdev/cluster.ts';
import { composeHaproxyConfig } from '../src/localdev/topology.ts';

const { values } = parseArgs({
  options: {
    instances: { type: 'string', default: '2' },
    port: { type: 'string' },
    // Prints config/compose/haproxy.cfg as the topology defines it, and exits.
    'compose-haproxy-cfg': { type: 'boolean', default: false },
  },
});
if (values['compose-haproxy-cfg']) {
  process.stdout.write(composeHaproxyConfig());
  process.exit(0);
}
const instances = Number(values.instances);
if (!Number.isInteger(instances) || instances < 1 || instances > 16) {
  process.stderr.write('cluster: --instances must be an integer from 1 to 16\n');
  process.exit(2);
}
const port = values.port === undefined ? undefined : Number(values.port);
if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) {
  process.stderr.write('cluster: --port must be a TCP port (1 to 65535)\n');
  process.exit(2);
}
const token = process.env.SCIM_BRIDGE_TOKEN ?? randomBytes(24).toString('base64url');
const cluster = await startCluster({
  instances,
  token,
  ...(port !== undefined ? { port } : {}),
  onOutput: (name, text) => process.stderr.write(`[${name}] ${text}`),
});
const certificateFile = path.join(tmpdir(), `scim-bridge-cluster-${cluster.haproxy.port}.crt`);
writeFileSync(certificateFile, cluster.certificate);
const lines = [
  '',
  `SCIM base URL: ${cluster.url}/scim/v2   (HAProxy, TLS; round-robin over ${instances} instances)`,
  `Bearer token:  ${process.env.SCIM_BRIDGE_TOKEN ? 'as in SCIM_BRIDGE_TOKEN' : token}`,
  `Certificate:   ${certificateFile}   (self-signed for 127.0.0.1)`,
  ...cluster.instances.map((i) => `Instance:      ${i.name} ${i.url} (pid ${i.pid()})`),
  `Directory:     ${cluster.slapd.url}`,
  `Redis:         ${cluster.redis.url}`,
  `Try:           curl --cacert ${certificateFile} -H "Authorization: Bearer <token>" ${cluster.url}/scim/v2/Users`,
  'Stop with Ctrl-C.',
  '',
];
process.stdout.write(`${lines.join('\n')}\n`);
let stopping = false;
const shutdown = () => {
  if (stopping) return;
  stopping = true;
  cluster
    .stop()
    .then(() => process.exit(0))
    .catch(() => process.exit(1));
};
process.on('SIGINT', shutdown);
process.on('SIGTERM', shutdown);
