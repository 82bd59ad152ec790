/**
 * OpenLDAP's accesslog records (slapo-accesslog(5)) as plain values: what the change feed reads
 * from `cn=accesslog`. Pure: the records come from the directory, but they are still parsed as
 * untrusted text (a malformed record is reported and skipped, never thrown past the feed).
 *
 *   reqStart   20261205005233.835770Z   (unique per record; the feed's position)
 *   reqType    add | delete | modify | modrdn
 *   reqDN      the target entry's DN before the change
 *   reqAuthzID who made it (the DN that bound)
 *   reqMod     "attr:+ value" (add), "attr:- value" / "attr:-" (delete), "attr:= value" / "attr:=" (replace)
 *   reqOld     "attr: value", the old values (logold): the whole entry for a delete
 *   reqNewDN / reqNewRDN / reqNewSuperior  for modrdn
 *   reqEntryUUID the entry's entryUUID
 */

export type LogOperation = 'add' | 'delete' | 'modify' | 'modrdn';

export interface LogModification {
  /** Lower-cased attribute name (DirEntry keys are lower case). */
  attribute: string;
  operation: 'add' | 'delete' | 'replace' | 'increment';
  values: string[];
}

export interface LogRecord {
  reqStart: string;
  operation: LogOperation;
  dn: string;
  authzId: string;
  entryUuid?: string;
  modifications: LogModification[];
  /** Old values by lower-cased attribute name. */
  old: Map<string, string[]>;
  /** modrdn: the DN after the rename. */
  newDn?: string;
  /**
   * What the event ids derive from when reqStart alone is not unique (the 389 retro changelog's
   * changeTime has 1 s resolution: src/feed/dirsrv/changelog.ts); reqStart otherwise.
   */
  eventKey?: string;
}

/** What ldapts hands back for an entry: each attribute a string or a list of them. */
export type RawLogEntry = Record<string, string | string[] | Buffer | Buffer[]>;

const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:\.(\d{1,6}))?Z$/;

const OPERATIONS = new Set<string>(['add', 'delete', 'modify', 'modrdn']);
const MOD_OPERATIONS: Record<string, LogModification['operation']> = {
  '+': 'add',
  '-': 'delete',
  '=': 'replace',
  '#': 'increment',
};

function texts(value: RawLogEntry[string] | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
}

function single(entry: RawLogEntry, name: string): string | undefined {
  return texts(entry[name])[0];
}

/**
 * reqMod lines grouped into modifications: consecutive lines naming the same attribute and
 * operation are one modification with several values (as the client sent them).
 */
export function parseModifications(lines: readonly string[]): LogModification[] {
  const result: LogModification[] = [];
  for (const line of lines) {
    const match = /^([A-Za-z0-9][A-Za-z0-9;.-]*):([+\-=#])(?: (.*))?$/s.exec(line);
    if (!match) throw new Error(`reqMod line not understood: ${JSON.stringify(line.slice(0, 80))}`);
    const [, attribute = '', symbol = '', value] = match;
    const operation = MOD_OPERATIONS[symbol] as LogModification['operation'];
    const key = attribute.toLowerCase();
    const last = result.at(-1);
    if (last && last.attribute === key && last.operation === operation && value !== undefined)
      last.values.push(value);
    else result.push({ attribute: key, operation, values: value === undefined ? [] : [value] });
  }
  return result;
}

/** reqOld lines ("attr: value") by lower-cased attribute name. */
export function parseOldValues(lines: readonly string[]): Map<string, string[]> {
  const old = new Map<string, string[]>();
  for (const line of lines) {
    const colon = line.indexOf(': ');
    if (colon <= 0) throw new Error(`reqOld line not understood: ${JSON.stringify(line.slice(0, 80))}`);
    const key = line.slice(0, colon).toLowerCase();
    old.set(key, [...(old.get(key) ?? []), line.slice(colon + 2)]);
  }
  return old;
}

/** One accesslog entry as a LogRecord; throws an Error naming what is wrong. */
export function parseLogRecord(entry: RawLogEntry): LogRecord {
  const reqStart = single(entry, 'reqStart');
  if (!reqStart || !GENERALIZED_TIME.test(reqStart))
    throw new Error(`record without a valid reqStart (${JSON.stringify(reqStart ?? null)})`);
  const operation = single(entry, 'reqType') ?? '';
  if (!OPERATIONS.has(operation))
    throw new Error(`${reqStart}: reqType ${JSON.stringify(operation)} is not a write`);
  const dn = single(entry, 'reqDN');
  if (!dn) throw new Error(`${reqStart}: record without reqDN`);
  const modifications = parseModifications(texts(entry.reqMod));
  const old = parseOldValues(texts(entry.reqOld));
  const entryUuid =
    single(entry, 'reqEntryUUID') ??
    old.get('entryuuid')?.[0] ??
    modifications.find((m) => m.attribute === 'entryuuid')?.values[0];
  const newDn = single(entry, 'reqNewDN');
  return {
    reqStart,
    operation: operation as LogOperation,
    dn,
    authzId: single(entry, 'reqAuthzID') ?? '',
    ...(entryUuid ? { entryUuid: entryUuid.toLowerCase() } : {}),
    modifications,
    old,
    ...(operation === 'modrdn' && newDn ? { newDn } : {}),
  };
}

/**
 * A reqStart as microseconds since the epoch: the change's order (unique and increasing per record)
 * in the units of the publisher's order scores (ms x 1000 + a sub-millisecond part).
 */
export function reqStartMicros(reqStart: string): number {
  const match = GENERALIZED_TIME.exec(reqStart);
  if (!match) throw new Error(`not a generalized time: ${reqStart}`);
  const [, y, mo, d, h, mi, s, fraction = ''] = match;
  const ms = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return ms * 1000 + Number(fraction.padEnd(6, '0'));
}

/** The ISO 8601 time of a reqStart (millisecond precision), for the event's timestamp. */
export function reqStartIso(reqStart: string): string {
  return new Date(Math.floor(reqStartMicros(reqStart) / 1000)).toISOString();
}

/** A generalized time `ms` milliseconds before `reqStart` (the re-read window). */
export function reqStartMinus(reqStart: string, ms: number): string {
  const micros = reqStartMicros(reqStart) - ms * 1000;
  const date = new Date(Math.floor(micros / 1000));
  const pad = (n: number, width = 2) => String(n).padStart(width, '0');
  return (
    `${date.getUTCFullYear()}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}` +
    `${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}${pad(date.getUTCSeconds())}` +
    `.${pad(((micros % 1_000_000) + 1_000_000) % 1_000_000, 6)}Z`
  );
}
