/**
 * Hot reload of the mapping directory. A MappingStore serves the current MappingSet; reload()
 * re-validates the whole directory and swaps the set in one assignment, so a request sees either
 * the old set or the new one, never a mix. An invalid directory keeps the last good set in service
 * and exposes the problems (for logs and /ready) until a later reload succeeds.
 */
import { type FSWatcher, watch } from 'node:fs';
import type { SchemaDefinition } from '../scim/schema-types.ts';
import type { MappingSet } from './compiled.ts';
import { formatProblem, loadMappingDirectory, MappingError, type MappingProblem } from './load.ts';

export type ReloadOutcome = { ok: true; set: MappingSet } | { ok: false; problems: MappingProblem[] };

export interface MappingStoreOptions {
  catalog: ReadonlyMap<string, SchemaDefinition>;
  /** Called after every reload attempt (log it). */
  onReload?: (outcome: ReloadOutcome, reason: string) => void;
  /** Quiet period after the last file event before reloading; editors write several events. */
  debounceMs?: number;
}

export class MappingStore {
  readonly dir: string;
  readonly #options: MappingStoreOptions;
  #current: MappingSet;
  #problems: MappingProblem[] = [];
  #watcher: FSWatcher | undefined;
  #timer: NodeJS.Timeout | undefined;
  #signalHandler: (() => void) | undefined;

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

  /** Readiness warnings: one line per problem, naming file:line:column. */
  warnings(): string[] {
    return this.#problems.map((p) => `mapping reload failed, last good mapping in use: ${formatProblem(p)}`);
  }

  /** Re-validates the directory; swaps the set in when valid, keeps the last good one otherwise. */
  reload(reason = 'reload'): ReloadOutcome {
    let outcome: ReloadOutcome;
    try {
      const set = loadMappingDirectory(this.dir, this.#options.catalog);
      this.#current = set;
      this.#problems = [];
      outcome = { ok: true, set };
    } catch (error) {
      const problems =
        error instanceof MappingError
          ? error.problems
          : [{ file: this.dir, line: 1, column: 1, key: '', message: (error as Error).message }];
      this.#problems = problems;
      outcome = { ok: false, problems };
    }
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
    this.#signalHandler = () => this.reload('SIGHUP');
    process.on('SIGHUP', this.#signalHandler);
  }

  #schedule(reason: string): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.reload(reason), this.#options.debounceMs ?? 200);
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
