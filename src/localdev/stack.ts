/**
 * The local default: a throwaway slapd (seeded with the sample directory) and redis-server,
 * started only for what the configuration does not name. Used by `npm start`, tests and benchmarks.
 */
import { containerRuntimeAvailable, startRedisContainer, startSlapdContainer } from './containers.ts';
import { missingRedisBinaries, type RunningRedis, startRedis } from './redis.ts';
import { BASE_LDIF, missingLdapBinaries, type RunningSlapd, SAMPLE_LDIF, startSlapd } from './slapd.ts';

export interface LocalServices {
  slapd?: RunningSlapd;
  redis?: RunningRedis;
  stop(): Promise<void>;
}

export interface LocalServiceOptions {
  ldap: boolean;
  redis: boolean;
  /** LDIF files after the base entries; default: the sample directory. [] for an empty directory. */
  seedLdif?: string[];
  /**
   * 'auto': use testcontainers when a container runtime answers the (fast) probe, else the local
   * binaries; 'never': local binaries only (the default, and what npm start does).
   */
  containers?: 'auto' | 'never';
}

export class MissingBinariesError extends Error {
  override readonly name = 'MissingBinariesError';
}

export async function startLocalServices(options: LocalServiceOptions): Promise<LocalServices> {
  // The container slapd carries the sample seed only; other seeds use the local binaries.
  const sampleSeed =
    !options.seedLdif || (options.seedLdif.length === 1 && options.seedLdif[0] === SAMPLE_LDIF);
  if (options.containers === 'auto' && sampleSeed && (await containerRuntimeAvailable())) {
    return startInContainers(options);
  }
  const missing = [
    ...(options.ldap ? missingLdapBinaries() : []),
    ...(options.redis ? missingRedisBinaries() : []),
  ];
  if (missing.length > 0) {
    throw new MissingBinariesError(
      `the local default needs programs that are not installed: ${missing.join(', ')}.\n` +
        'Install them with: sudo apt-get install slapd ldap-utils redis-server\n' +
        '(or set SCIM_BRIDGE_LDAP_URL and SCIM_BRIDGE_REDIS_URL to use your own directory and Redis)',
    );
  }
  const started: LocalServices = {
    async stop() {
      await Promise.allSettled([started.slapd?.stop(), started.redis?.stop()]);
    },
  };
  try {
    const [slapd, redis] = await Promise.all([
      options.ldap
        ? startSlapd({ seedLdif: [BASE_LDIF, ...(options.seedLdif ?? [SAMPLE_LDIF])] })
        : undefined,
      options.redis ? startRedis() : undefined,
    ]);
    if (slapd) started.slapd = slapd;
    if (redis) started.redis = redis;
    return started;
  } catch (error) {
    await started.stop();
    throw error;
  }
}

async function startInContainers(options: LocalServiceOptions): Promise<LocalServices> {
  const started: LocalServices = {
    async stop() {
      await Promise.allSettled([started.slapd?.stop(), started.redis?.stop()]);
    },
  };
  try {
    if (options.ldap) started.slapd = await startSlapdContainer();
    if (options.redis) started.redis = await startRedisContainer();
    return started;
  } catch (error) {
    await started.stop();
    throw error;
  }
}
