/**
 * One directory server's health, as a pure state machine (docs/architecture.md §Directory
 * failover): `up` until a connection to it fails or breaks, then `down` until a background probe
 * gets an answer. Probes of a down server back off, doubling from `probeInitialMs` up to
 * `probeMaxMs`. Times are passed in (milliseconds since the epoch), so the table tests need no clock.
 */
export type ServerRole = 'readWrite' | 'readOnly';
export type ServerState = 'up' | 'down';

export interface ProbePolicy {
  probeInitialMs: number;
  probeMaxMs: number;
}

/** What /ready and /metrics show of one server. */
export interface ServerStatus {
  url: string;
  role: ServerRole;
  state: ServerState;
  /** Epoch milliseconds of the last change of state (start-up for a server never down). */
  since: number;
  /** Why it went down (for the log and /metrics; never shown on the public /ready). */
  reason?: string;
}

export class ServerHealth {
  #state: ServerState = 'up';
  #since: number;
  #reason: string | undefined;
  /** Probes that failed since the server went down: the backoff's exponent. */
  #failedProbes = 0;

  constructor(now: number) {
    this.#since = now;
  }

  get state(): ServerState {
    return this.#state;
  }

  get since(): number {
    return this.#since;
  }

  get reason(): string | undefined {
    return this.#reason;
  }

  /** A connection failed or broke. True when this took the server down (it was up). */
  failed(now: number, reason: string): boolean {
    if (this.#state === 'down') return false;
    this.#state = 'down';
    this.#since = now;
    this.#reason = reason;
    this.#failedProbes = 0;
    return true;
  }

  /** A probe of a down server got no answer: the next one waits longer. */
  probeFailed(reason: string): void {
    if (this.#state !== 'down') return;
    this.#failedProbes++;
    this.#reason = reason;
  }

  /** The server answered (a probe): true when this took it back (it was down). */
  answered(now: number): boolean {
    if (this.#state === 'up') return false;
    this.#state = 'up';
    this.#since = now;
    this.#reason = undefined;
    this.#failedProbes = 0;
    return true;
  }

  /** How long until the next probe of a down server: doubling, bounded by the policy's maximum. */
  nextProbeInMs(policy: ProbePolicy): number {
    const initial = Math.max(1, policy.probeInitialMs);
    const max = Math.max(initial, policy.probeMaxMs);
    // 2^30 already exceeds any bound a millisecond setting allows; stop doubling there.
    return Math.min(max, initial * 2 ** Math.min(this.#failedProbes, 30));
  }
}
