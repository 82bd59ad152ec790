/**
 * Readiness: the directory and Redis both answer, and the mappings are in a good state. Each
 * probe has a deadline so /ready itself never hangs.
 */
export interface Probe {
  name: string;
  check(): Promise<void>;
  /** Its error text names no location (this instance's own state) and may be shown as it is. */
  speaksPublicly?: boolean;
}

export interface ReadinessReport {
  ready: boolean;
  /**
   * `error` says what is wrong in words safe for an unauthenticated caller (no URL, host, port or
   * DN: /ready is public); `detail` is the probe's own message, for the log only.
   */
  checks: Record<string, { ok: boolean; latencyMs: number; error?: string; detail?: string }>;
  /** Degraded but serving (e.g. a mapping reload failed and the last good one is in use). */
  warnings: string[];
  /** With several directory servers (ldap.urls): each one's state, by its place in the list. */
  directoryServers?: DirectoryServerReport[];
}

export interface DirectoryServerReport {
  server: number;
  role: string;
  state: 'up' | 'down';
  /** ISO time of its last change of state. */
  since: string;
}

export async function checkReadiness(
  probes: Probe[],
  timeoutMs: number,
  warnings: () => string[] = () => [],
): Promise<ReadinessReport> {
  const checks: ReadinessReport['checks'] = {};
  await Promise.all(
    probes.map(async (probe) => {
      const started = Date.now();
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          probe.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
          }),
        ]);
        checks[probe.name] = { ok: true, latencyMs: Date.now() - started };
      } catch (error) {
        const detail = (error as Error).message;
        const timedOut = detail.startsWith('no answer within');
        checks[probe.name] = {
          ok: false,
          latencyMs: Date.now() - started,
          error: timedOut || probe.speaksPublicly ? detail : 'not answering',
          detail,
        };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  return { ready: Object.values(checks).every((c) => c.ok), checks, warnings: warnings() };
}
