/**
 * Container-runtime detection and container-backed services, for machines that have Docker/Podman.
 * testcontainers is imported lazily (it takes ~0.5 s to load and needs Node 22), so nothing here costs
 * anything unless asked. CI machines have no container runtime: callers fall back to local binaries.
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { RunningRedis } from './redis.ts';
import type { RunningSlapd } from './slapd.ts';

const PROBE_TIMEOUT_MS = 2000;

let available: Promise<boolean> | undefined;

/**
 * True when testcontainers finds a working container runtime. Without one it fails within
 * milliseconds; a hung probe (unreachable remote DOCKER_HOST) counts as absent after ~2 s (plus the
 * lazy import of testcontainers, ~0.5 s).
 * The answer is cached for the life of the process.
 */
export function containerRuntimeAvailable(): Promise<boolean> {
  available ??= (async () => {
    // The import is local work (~0.5 s); only the runtime probe can hang, so only it is raced.
    let getContainerRuntimeClient: typeof import('testcontainers').getContainerRuntimeClient;
    try {
      ({ getContainerRuntimeClient } = await import('testcontainers'));
    } catch {
      return false;
    }
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS);
      timer.unref();
    });
    const probe = getContainerRuntimeClient().then(
      () => true,
      () => false,
    );
    try {
      return await Promise.race([probe, timeout]);
    } finally {
      clearTimeout(timer);
    }
  })();
  return available;
}

export interface RedisContainerOptions {
  /** Default 'redis:7'. */
  image?: string;
  /** `--appendonly yes --appendfsync always`. */
  durable?: boolean;
}

/**
 * Redis in a container, in the same shape as `startRedis()`. Differences, honestly:
 * `dir` is the path inside the container ('/data'); `pid` is -1 (no host process);
 * the mapped port, hence `port` and `url`, may change across restart(); kill() SIGKILLs the container
 * and keeps it for restart(). Untested on CI (no container runtime); the Ryuk reaper removes leftovers.
 */
export async function startRedisContainer(options: RedisContainerOptions = {}): Promise<RunningRedis> {
  const { GenericContainer, getContainerRuntimeClient, Wait } = await import('testcontainers');
  const command = ['redis-server', '--save', '', '--maxmemory-policy', 'noeviction'];
  command.push(
    ...(options.durable ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  );
  const container = await new GenericContainer(options.image ?? 'redis:7')
    .withCommand(command)
    .withExposedPorts(6379)
    .withWaitStrategy(Wait.forLogMessage('Ready to accept connections'))
    .start();
  let stopped = false;
  return {
    get url() {
      return `redis://${container.getHost()}:${container.getMappedPort(6379)}`;
    },
    get port() {
      return container.getMappedPort(6379);
    },
    dir: '/data',
    pid: -1,
    async stop() {
      if (stopped) return;
      stopped = true;
      await container.stop();
    },
    async kill() {
      // Not container.stop(): testcontainers caches a stopped container and would never remove it.
      const client = await getContainerRuntimeClient();
      await client.container.getById(container.getId()).kill({ signal: 'SIGKILL' });
    },
    async restart() {
      // `docker restart` also starts a killed container; testcontainers waits for the log line again.
      await container.restart({ timeout: 10 });
    },
  };
}

/**
 * slapd in a container built from config/compose/openldap.Dockerfile (the docker-compose image:
 * Debian's slapd with the same template, schema and seed), in the shape of `startSlapd()`.
 * Seeded with base + sample; other seeds need the local binaries. Untested on CI (no container
 * runtime there); `restart()` restarts the container and may change the mapped port.
 */
export async function startSlapdContainer(): Promise<RunningSlapd> {
  const { GenericContainer, Wait } = await import('testcontainers');
  const root = fileURLToPath(new URL('../../', import.meta.url));
  const image = await GenericContainer.fromDockerfile(root, 'config/compose/openldap.Dockerfile').build(
    'scim-ldap-bridge-openldap',
    {
      deleteOnExit: false,
    },
  );
  const rootPassword = randomBytes(12).toString('base64url');
  const container = await image
    .withEnvironment({ LDAP_ROOT_PASSWORD: rootPassword })
    .withExposedPorts(389)
    .withWaitStrategy(Wait.forListeningPorts())
    .start();
  const suffix = 'dc=example,dc=com';
  return {
    get url() {
      return `ldap://${container.getHost()}:${container.getMappedPort(389)}/`;
    },
    get port() {
      return container.getMappedPort(389);
    },
    suffix,
    rootDn: `cn=admin,${suffix}`,
    rootPassword,
    serviceDn: `cn=svc,${suffix}`,
    servicePassword: 'svc-secret',
    dataDir: '/var/lib/scim-ldap',
    pid: -1,
    async stop() {
      await container.stop();
    },
    async restart() {
      await container.restart({ timeout: 10 });
    },
  };
}
