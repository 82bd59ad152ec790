/**
 * Hot reload of the mapping directory. A MappingStore serves the current MappingSet; reload()
 * re-validates the whole directory and swaps the set in one assignment, so a request sees either
 * the old set or the new one, never a mix. An invalid directory keeps the last good set in service
 * and exposes the problems (for logs and /ready) until a later reload succeeds. An optional `verify`
 * hook (the directory's subschema, see subschema.ts) must also pass before a set is swapped in.
 */
import { type FSWatcher, watch } from 'node:fs';
import type { SchemaDefinition } from '../scim/schema-types.ts';
import type { MappingSet } from './compiled.ts';
import { loadMappingDirectory } from './load.ts';
import { formatProblem, MappingError, type MappingProblem } from './problems.ts';

export type ReloadOutcome = { ok: true; set: MappingSet } | { ok: false; problems: MappingProblem[] };

/** The last reload attempt, for the admin console: when, why, and whether its set went into service. */
export interface ReloadRecord {
  at: Date;
  reason: string;
  ok: boolean;
  problems: MappingProblem[];
}

export interface MappingStoreOptions {
  catalog: ReadonlyMap<string, SchemaDefinition>;
  /** Called after every reload attempt (log it). */
  onReload?: (outcome: ReloadOutcome, reason: string) => void;
  /** Quiet period after the last file event before reloading; editors write several events. */
  debounceMs?: number;
  /**
   * Checks of a set that has passed the files' own validation, against something outside them (the
   * directory's subschema). A set with problems is not swapped in; reload() reports them like any
   * other mapping problem. verify() runs it on the set in service (start-up).
   */
  verify?: (set: MappingSet) => Promise<MappingProblem[]>;
}

export class MappingStore {
  readonly dir: string;
  readonly #options: MappingStoreOptions;
  #current: MappingSet;
  #problems: MappingProblem[] = [];
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #signalHandler: (() => void) | undefined;
  /** Reload attempts started so far; an attempt that a newer one overtook swaps nothing in. */
  #generation = 0;
  #latest: Promise<ReloadOutcome> | undefined;
  #lastReload: ReloadRecord | undefined;

  /** Loads the directory; throws MappingError when it is invalid (there is no last good set yet). */
  constructor(dir: string, options: MappingStoreOptions) {
    this.dir = dir;
    this.#options = options;
    this.#current = loadMappingDirectory(dir, options.catalog);
  }

  /** The set in service. Pass `store.mappings` where a `() => MappingSet` is expected. */
  current(): MappingSet {
    return this.#current;
  }

  readonly mappings = (): MappingSet => this.#current;

  /** Problems of the last reload when it failed (the last good set is in service); empty otherwise. */
  problems(): MappingProblem[] {
    return this.#problems;
  }

  /** The last reload attempt that settled; undefined before the first (the set loaded at start-up). */
  lastReload(): ReloadRecord | undefined {
    return this.#lastReload;
  }

  /** Readiness warnings: one line per problem, naming file:line:column. */
  warnings(): string[] {
    return this.#problems.map((p) => `mapping reload failed, last good mapping in use: ${formatProblem(p)}`);
  }

  /**
   * Runs the verify hook on the set in service (at start-up, once what it needs exists). Throws
   * MappingError listing the problems; the set stays in service either way.
   */
  async verify(): Promise<void> {
    const problems = (await this.#options.verify?.(this.#current)) ?? [];
    if (problems.length > 0) throw new MappingError(problems);
  }

  /**
   * Re-validates the directory, then runs the verify hook; swaps the set in when both pass, keeps
   * the last good one otherwise. Problems (the hook's failures too) make an outcome, not a
   * rejection. Without a verify hook it settles synchronously
   * (onReload has run when reload() returns). When reloads overlap (a file changed again while the
   * directory was asked), the newest one decides and the others resolve to its outcome.
   */
  reload(reason = 'reload'): Promise<ReloadOutcome> {
    const attempt = this.#attempt(reason, ++this.#generation);
    this.#latest = attempt;
    return attempt;
  }

  async #attempt(reason: string, generation: number): Promise<ReloadOutcome> {
    let outcome: ReloadOutcome;
    try {
      const set = loadMappingDirectory(this.dir, this.#options.catalog);
      // No await without a hook: the swap below happens in the same tick as the call.
      const problems = this.#options.verify ? await this.#options.verify(set) : [];
      if (generation !== this.#generation && this.#latest) return this.#latest;
      if (problems.length > 0) throw new MappingError(problems);
      this.#current = set;
      this.#problems = [];
      outcome = { ok: true, set };
    } catch (error) {
      if (generation !== this.#generation && this.#latest) return this.#latest;
      const problems =
        error instanceof MappingError
          ? error.problems
          : [{ file: this.dir, line: 1, column: 1, key: '', message: (error as Error).message }];
      this.#problems = problems;
      outcome = { ok: false, problems };
    }
    this.#lastReload = {
      at: new Date(),
      reason,
      ok: outcome.ok,
      problems: outcome.ok ? [] : outcome.problems,
    };
    this.#options.onReload?.(outcome, reason);
    return outcome;
  }

  /** Watches the directory and reloads after a quiet period; SIGHUP reloads too. */
  watch(): void {
    if (this.#watcher) return;
    this.#watcher = watch(this.dir, { persistent: false }, (_event, file) => {
      if (file && !/\.ya?ml$/i.test(file)) return;
      this.#schedule(`file ${file ?? '(unknown)'} changed`);
    });
    this.#watcher.on('error', () => this.#schedule('watch error'));
    this.#signalHandler = () => void this.reload('SIGHUP');
    process.on('SIGHUP', this.#signalHandler);
  }

  #schedule(reason: string): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => void this.reload(reason), this.#options.debounceMs ?? 200);
    this.#timer.unref();
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#watcher?.close();
    this.#watcher = undefined;
    if (this.#signalHandler) process.off('SIGHUP', this.#signalHandler);
    this.#signalHandler = undefined;
  }
}
