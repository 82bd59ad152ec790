/**
 * Readiness (docs/architecture.md §Redis outage): the instance can serve when the directory answers
 * and it is neither draining nor shedding load; Redis down only degrades it (reads go on, writes
 * that need Redis answer 503). Each probe has a deadline so /ready itself never hangs.
 */
export interface Probe {
  name: string;
  check(): Promise<void>;
  /** Its error text names no location (this instance's own state) and may be shown as it is. */
  speaksPublicly?: boolean;
  /** A failure degrades the instance but does not stop it serving (Redis: reads go on). */
  degradesOnly?: boolean;
  /** This probe's own bound, when shorter than the report's (a load balancer's check must not time out). */
  timeoutMs?: number;
}

export interface ReadinessReport {
  /** The instance can serve reads: every probe that is not `degradesOnly` answered. */
  ready: boolean;
  /**
   * `error` says what is wrong in words safe for an unauthenticated caller (no URL, host, port or
   * DN: /ready is public); `detail` is the probe's own message, for the log only.
   */
  checks: Record<
    string,
    { ok: boolean; latencyMs: number; error?: string; detail?: string; degradesOnly?: boolean }
  >;
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

/** What /ready says: serving fully, serving with something down, or not serving. */
export type ReadinessStatus = 'ready' | 'degraded' | 'cannot serve';

export function readinessStatus(report: ReadinessReport): ReadinessStatus {
  if (!report.ready) return 'cannot serve';
  const degraded = Object.values(report.checks).some((c) => !c.ok) || report.warnings.length > 0;
  return degraded ? 'degraded' : 'ready';
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
      const boundMs = Math.min(timeoutMs, probe.timeoutMs ?? timeoutMs);
      const only = probe.degradesOnly ? { degradesOnly: true } : {};
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          probe.check(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error(`no answer within ${boundMs} ms`)), boundMs);
          }),
        ]);
        checks[probe.name] = { ok: true, latencyMs: Date.now() - started, ...only };
      } catch (error) {
        const detail = (error as Error).message;
        const timedOut = detail.startsWith('no answer within');
        checks[probe.name] = {
          ok: false,
          latencyMs: Date.now() - started,
          error: timedOut || probe.speaksPublicly ? detail : 'not answering',
          detail,
          ...only,
        };
      } finally {
        clearTimeout(timer);
      }
    }),
  );
  const ready = Object.values(checks).every((c) => c.ok || c.degradesOnly === true);
  return { ready, checks, warnings: warnings() };
}
