/**
 * A Directory in memory that records every call: the directory of `preview` (which answers with
 * simulated entries, see services/preview.ts) and of the services' unit tests (which seed entries
 * and assert on the operations recorded). It lives in services because both of its users sit
 * above services, and it is no adapter a deployment could choose: src/ports holds interfaces only.
 *
 * The store is simple: DNs compare as normalised text, attribute names in lower case, values
 * exactly (ids and DNs case-insensitively); filters are evaluated as LDAP would, without matching
 * rules. Given `idAttribute`/`versionAttribute`, an add stamps a new id and every write a new
 * version, like entryUUID and entryCSN.
 */
import { randomUUID } from 'node:crypto';
import { isUnder, normalizeDn, parentDn, sameDn } from '../lib/dn.ts';
import { valueText } from '../mapping/convert.ts';
import type {
  DirChange,
  DirEntry,
  Directory,
  DirectoryCapabilities,
  DirectorySubschema,
  DirFilter,
  DirValue,
  SearchRequest,
  SearchResult,
  WriteOptions,
} from '../ports/directory.ts';
import {
  AlreadyExistsError,
  AssertionFailedError,
  NotFoundError,
  TooManyResultsError,
} from '../ports/errors.ts';

export type RecordedOperation =
  | { kind: 'search'; request: SearchRequest }
  | { kind: 'read'; dn: string; attributes: string[] }
  | { kind: 'add'; dn: string; attributes: Record<string, DirValue[]>; options?: WriteOptions }
  | { kind: 'modify'; dn: string; changes: DirChange[]; options?: WriteOptions }
  | { kind: 'rename'; dn: string; newDn: string }
  | { kind: 'delete'; dn: string; options?: WriteOptions };

export interface RecordingDirectoryOptions {
  /** Entries the directory starts with (attribute names in any case). */
  entries?: DirEntry[];
  /** Stamped with a new UUID on add (entryUUID). */
  idAttribute?: string;
  /** Stamped with a new value on every write (entryCSN). */
  versionAttribute?: string;
}

export class RecordingDirectory implements Directory {
  readonly operations: RecordedOperation[] = [];
  readonly #entries = new Map<string, DirEntry>();
  readonly #options: RecordingDirectoryOptions;
  #writes = 0;

  constructor(options: RecordingDirectoryOptions = {}) {
    this.#options = options;
    for (const entry of options.entries ?? []) this.#entries.set(normalizeDn(entry.dn), lowerKeys(entry));
  }

  /** The stored entry at `dn` (all attributes, names in lower case). */
  entry(dn: string): DirEntry | undefined {
    return this.#entries.get(normalizeDn(dn));
  }

  /** The write operations recorded (add, modify, rename, delete), in order. */
  writes(): RecordedOperation[] {
    return this.operations.filter((o) => o.kind !== 'search' && o.kind !== 'read');
  }

  async search(request: SearchRequest): Promise<SearchResult> {
    this.operations.push({ kind: 'search', request });
    return this.answerSearch(request);
  }

  async read(dn: string, attributes: string[], _binary?: string[]): Promise<DirEntry | undefined> {
    this.operations.push({ kind: 'read', dn, attributes });
    return this.answerRead(dn, attributes);
  }

  async add(
    dn: string,
    attributes: Record<string, DirValue[]>,
    options?: WriteOptions,
  ): Promise<DirEntry | undefined> {
    this.operations.push({ kind: 'add', dn, attributes, ...(options ? { options } : {}) });
    return this.answerAdd(dn, attributes, options);
  }

  async modify(dn: string, changes: DirChange[], options?: WriteOptions): Promise<DirEntry | undefined> {
    this.operations.push({ kind: 'modify', dn, changes, ...(options ? { options } : {}) });
    return this.answerModify(dn, changes, options);
  }

  async rename(dn: string, newDn: string): Promise<void> {
    this.operations.push({ kind: 'rename', dn, newDn });
    this.answerRename(dn, newDn);
  }

  async delete(dn: string, options?: WriteOptions): Promise<void> {
    this.operations.push({ kind: 'delete', dn, ...(options ? { options } : {}) });
    this.answerDelete(dn, options);
  }

  protected answerSearch(request: SearchRequest): SearchResult {
    const found = [...this.#entries.values()].filter(
      (e) => inScope(e.dn, request) && matches(e, request.filter),
    );
    if (request.page) {
      const from = request.page.startIndex - 1;
      const page = found.slice(from, from + request.page.count).map((e) => select(e, request.attributes));
      if (request.each) for (const e of page) request.each(e);
      return { entries: request.each ? [] : page, total: found.length };
    }
    if (request.sizeLimit !== undefined && found.length > request.sizeLimit) {
      throw new TooManyResultsError(`more than ${request.sizeLimit} entries match`);
    }
    return { entries: found.map((e) => select(e, request.attributes)), total: found.length };
  }

  protected answerRead(dn: string, attributes: string[]): DirEntry | undefined {
    const entry = this.entry(dn);
    return entry && select(entry, attributes);
  }

  protected answerAdd(
    dn: string,
    attributes: Record<string, DirValue[]>,
    options?: WriteOptions,
  ): DirEntry | undefined {
    if (this.entry(dn)) throw new AlreadyExistsError(`${dn} exists`);
    if (!this.entry(parentDn(dn))) throw new NotFoundError(`the parent of ${dn} does not exist`);
    const entry = lowerKeys({ dn, attributes });
    const { idAttribute } = this.#options;
    if (idAttribute) entry.attributes[idAttribute.toLowerCase()] = [randomUUID()];
    this.#stampVersion(entry);
    this.#entries.set(normalizeDn(dn), entry);
    return options?.returnAttributes ? select(entry, options.returnAttributes) : undefined;
  }

  protected answerModify(dn: string, changes: DirChange[], options?: WriteOptions): DirEntry | undefined {
    const entry = this.#existing(dn);
    this.#check(entry, options);
    for (const change of changes) applyChange(entry, change);
    this.#stampVersion(entry);
    return options?.returnAttributes ? select(entry, options.returnAttributes) : undefined;
  }

  protected answerRename(dn: string, newDn: string): void {
    const entry = this.#existing(dn);
    this.#entries.delete(normalizeDn(dn));
    this.#entries.set(normalizeDn(newDn), { dn: newDn, attributes: entry.attributes });
  }

  protected answerDelete(dn: string, options?: WriteOptions): void {
    this.#check(this.#existing(dn), options);
    this.#entries.delete(normalizeDn(dn));
  }

  async capabilities(): Promise<DirectoryCapabilities> {
    return {
      vendor: 'unknown',
      pagedResults: true,
      serverSideSort: true,
      virtualListView: true,
      assertion: true,
      postRead: true,
    };
  }

  /** There is no directory schema to read. */
  async subschema(): Promise<DirectorySubschema | undefined> {
    return undefined;
  }

  async ping(): Promise<void> {}
  async close(): Promise<void> {}

  #existing(dn: string): DirEntry {
    const entry = this.entry(dn);
    if (!entry) throw new NotFoundError(`${dn} does not exist`);
    return entry;
  }

  /** RFC 4528: the write happens only if the assertion holds. */
  #check(entry: DirEntry, options: WriteOptions | undefined): void {
    if (options?.assertion && !matches(entry, options.assertion)) {
      throw new AssertionFailedError(`the assertion does not hold for ${entry.dn}`);
    }
  }

  #stampVersion(entry: DirEntry): void {
    const { versionAttribute } = this.#options;
    if (versionAttribute) entry.attributes[versionAttribute.toLowerCase()] = [`v${++this.#writes}`];
  }
}

function lowerKeys(entry: DirEntry): DirEntry {
  const attributes: Record<string, DirValue[]> = {};
  for (const [k, v] of Object.entries(entry.attributes ?? {})) attributes[k.toLowerCase()] = [v].flat();
  return { dn: entry.dn, attributes };
}

function select(entry: DirEntry, attributes: string[]): DirEntry {
  const out: Record<string, DirValue[]> = {};
  for (const name of attributes) {
    const values = entry.attributes[name.toLowerCase()];
    if (values) out[name.toLowerCase()] = [...values];
  }
  return { dn: entry.dn, attributes: out };
}

function inScope(dn: string, request: SearchRequest): boolean {
  if (request.scope === 'base') return sameDn(dn, request.base);
  if (request.scope === 'one') return sameDn(parentDn(dn), request.base);
  return isUnder(dn, request.base);
}

/** Values compare case-insensitively (DNs also as normalised DNs), as most LDAP equality rules do. */
function sameValue(a: DirValue, b: DirValue): boolean {
  if (typeof a !== 'string' || typeof b !== 'string') return valueText(a) === valueText(b);
  return a.toLowerCase() === b.toLowerCase() || (a.includes('=') && normalizeDn(a) === normalizeDn(b));
}

function matches(entry: DirEntry, filter: DirFilter): boolean {
  const values = (name: string) => entry.attributes[name.toLowerCase()] ?? [];
  switch (filter.type) {
    case 'true':
      return true;
    case 'false':
      return false;
    case 'and':
      return filter.filters.every((f) => matches(entry, f));
    case 'or':
      return filter.filters.some((f) => matches(entry, f));
    case 'not':
      return !matches(entry, filter.filter);
    case 'equal':
      return values(filter.attribute).some((v) => sameValue(v, filter.value));
    case 'present':
      return values(filter.attribute).length > 0;
    case 'substring':
      return values(filter.attribute).some((v) => substringMatch(valueText(v).toLowerCase(), filter));
    case 'greaterOrEqual':
      return values(filter.attribute).some((v) => valueText(v) >= filter.value);
    case 'lessOrEqual':
      return values(filter.attribute).some((v) => valueText(v) <= filter.value);
    default:
      return false;
  }
}

function substringMatch(text: string, f: { initial?: string; any: string[]; final?: string }): boolean {
  let at = 0;
  if (f.initial !== undefined) {
    if (!text.startsWith(f.initial.toLowerCase())) return false;
    at = f.initial.length;
  }
  for (const part of f.any) {
    const found = text.indexOf(part.toLowerCase(), at);
    if (found === -1) return false;
    at = found + part.length;
  }
  return f.final === undefined || text.slice(at).endsWith(f.final.toLowerCase());
}

function applyChange(entry: DirEntry, change: DirChange): void {
  const key = change.attribute.toLowerCase();
  const current = entry.attributes[key] ?? [];
  let next: DirValue[];
  if (change.operation === 'replace') next = [...change.values];
  else if (change.operation === 'add')
    next = [...current, ...change.values.filter((v) => !current.some((c) => sameValue(c, v)))];
  else if (change.values.length === 0) next = [];
  else next = current.filter((c) => !change.values.some((v) => sameValue(c, v)));
  if (next.length > 0) entry.attributes[key] = next;
  else delete entry.attributes[key];
}
