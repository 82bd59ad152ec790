/**
 * 389-DS Retro Changelog records (`cn=changelog`, the draft-good-ldap-changelog format) as the
 * LogRecord the accesslog feed translates (../accesslog.ts), so ../translate.ts builds the events
 * of both. Pure; the records are parsed as untrusted text (a malformed one is reported and
 * skipped by the consumer, never thrown past it).
 *
 *   changeNumber    1, 2, ... (the feed's position; restarts at 1 when the changelog is recreated)
 *   targetDn        the entry's DN before the change
 *   changeType      add | delete | modify | modrdn
 *   changes         LDIF text: an add's entry, a modify's "replace: attr" blocks, a delete's old
 *                   entry (nsslapd-log-deleted: on); 389 appends a NUL byte to some
 *   newRDN / deleteOldRDN / newSuperior   for modrdn
 *   changeTime      generalized time, 1 s resolution
 *   targetUniqueId  the entry's nsUniqueId (the plug-in's `nsslapd-attribute: nsuniqueid:targetUniqueId`)
 * Who made the change is not a field: 389 puts the modifiersName (creatorsName for an add) into
 * the changes of adds, modifies and renames. A delete names nobody.
 */
import { parentDn } from '../../lib/dn.ts';
import type { LogModification, LogOperation, LogRecord, RawLogEntry } from '../accesslog.ts';

export interface ChangelogRecord extends LogRecord {
  changeNumber: number;
}

const OPERATIONS = new Set<string>(['add', 'delete', 'modify', 'modrdn']);
const CHANGE_TIME = /^\d{14}(?:\.\d{1,6})?Z$/;
/** Bookkeeping 389 writes into every record's changes: not a change anyone asked for. */
const BOOKKEEPING = new Set([
  'creatorsname',
  'modifiersname',
  'createtimestamp',
  'modifytimestamp',
  'entryid',
  'parentid',
  'dsentrydn',
  'entrydn',
  'nsuniqueid',
]);
const MOD_OPERATIONS: Record<string, LogModification['operation']> = {
  add: 'add',
  delete: 'delete',
  replace: 'replace',
  increment: 'increment',
};

function texts(value: RawLogEntry[string] | undefined): string[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
}

/** The first value of a raw entry's attribute, whatever case the server named it in. */
export function single(entry: Record<string, unknown>, name: string): string | undefined {
  const key = Object.keys(entry).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : texts(entry[key] as RawLogEntry[string])[0];
}

/** A positive changeNumber-like integer, else undefined. */
export function positiveInteger(text: string | undefined): number | undefined {
  return text !== undefined && /^[1-9]\d{0,15}$/.test(text) ? Number(text) : undefined;
}

/** LDIF lines (RFC 2849): folded lines joined, the trailing NUL 389 writes dropped, blanks skipped. */
export function ldifLines(text: string): string[] {
  const lines: string[] = [];
  for (const line of text.replace(/\0+$/, '').split(/\r?\n/)) {
    if (line.startsWith(' ') && lines.length > 0) lines[lines.length - 1] += line.slice(1);
    else if (line !== '') lines.push(line);
  }
  return lines;
}

/** One "attr: value" / "attr:: base64" line (RFC 2849); URLs (":<") are refused. */
export function ldifAttribute(line: string): { attribute: string; value: string } {
  const match = /^([A-Za-z0-9][A-Za-z0-9;.-]*):(:|<)? ?(.*)$/s.exec(line);
  if (!match) throw new Error(`LDIF line not understood: ${JSON.stringify(line.slice(0, 80))}`);
  const [, attribute = '', kind, raw = ''] = match;
  if (kind === '<') throw new Error(`LDIF value by URL refused: ${attribute}`);
  if (kind === ':' && !/^[A-Za-z0-9+/]*={0,2}$/.test(raw))
    throw new Error(`LDIF value of ${attribute} is not base64`);
  return {
    attribute: attribute.toLowerCase(),
    value: kind === ':' ? Buffer.from(raw, 'base64').toString('utf8') : raw,
  };
}

/** An entry's LDIF (an add's changes, a delete's old entry) as values by lower-cased attribute. */
export function parseLdifEntry(text: string): Map<string, string[]> {
  const values = new Map<string, string[]>();
  for (const line of ldifLines(text)) {
    const { attribute, value } = ldifAttribute(line);
    values.set(attribute, [...(values.get(attribute) ?? []), value]);
  }
  return values;
}

/** A modify's changes ("replace: attr", its values, "-") as modifications, bookkeeping included. */
export function parseLdifModifications(text: string): LogModification[] {
  const result: LogModification[] = [];
  let current: LogModification | undefined;
  for (const line of ldifLines(text)) {
    if (line === '-') {
      if (!current) throw new Error('LDIF "-" without a modification');
      current = undefined;
      continue;
    }
    const { attribute, value } = ldifAttribute(line);
    if (current === undefined) {
      const operation = MOD_OPERATIONS[attribute];
      if (!operation) throw new Error(`LDIF modification ${JSON.stringify(attribute)} not understood`);
      current = { attribute: value.trim().toLowerCase(), operation, values: [] };
      result.push(current);
    } else if (attribute === current.attribute) current.values.push(value);
    else throw new Error(`LDIF value of ${attribute} inside the modification of ${current.attribute}`);
  }
  return result;
}

/** The DN a modrdn leads to: the new RDN under the new superior (or the old parent). */
function renamedDn(entry: RawLogEntry, dn: string): string | undefined {
  const newRdn = single(entry, 'newRDN');
  if (!newRdn) return undefined;
  const superior = single(entry, 'newSuperior') ?? parentDn(dn);
  return superior === '' ? newRdn : `${newRdn},${superior}`;
}

function withoutBookkeeping(modifications: LogModification[]): LogModification[] {
  return modifications.filter((m) => !BOOKKEEPING.has(m.attribute));
}

/** Changes, author and old values of a record, by its change type. */
function changesOf(operation: LogOperation, changes: string) {
  if (operation === 'add') {
    const entry = parseLdifEntry(changes);
    const modifications = [...entry].map(([attribute, values]) => ({
      attribute,
      operation: 'add' as const,
      values,
    }));
    return {
      modifications: withoutBookkeeping(modifications),
      authzId: entry.get('creatorsname')?.[0] ?? '',
      old: new Map<string, string[]>(),
    };
  }
  if (operation === 'delete') {
    // nsslapd-log-deleted: on puts the deleted entry here (its object classes name its type).
    return { modifications: [], authzId: '', old: parseLdifEntry(changes) };
  }
  const modifications = parseLdifModifications(changes);
  const author = modifications.find((m) => m.attribute === 'modifiersname' && m.operation === 'replace');
  return {
    modifications: withoutBookkeeping(modifications),
    authzId: author?.values[0] ?? '',
    old: new Map<string, string[]>(),
  };
}

/** One changelog entry as a ChangelogRecord; throws an Error naming what is wrong. */
export function parseChangelogRecord(entry: RawLogEntry): ChangelogRecord {
  const numberText = single(entry, 'changeNumber') ?? '';
  const changeNumber = positiveInteger(numberText);
  if (changeNumber === undefined)
    throw new Error(`record without a valid changeNumber (${JSON.stringify(numberText.slice(0, 40))})`);
  const operation = (single(entry, 'changeType') ?? '').toLowerCase();
  if (!OPERATIONS.has(operation))
    throw new Error(`changeNumber ${changeNumber}: changeType ${JSON.stringify(operation)} is not a write`);
  const dn = single(entry, 'targetDn');
  if (!dn) throw new Error(`changeNumber ${changeNumber}: record without targetDn`);
  const changeTime = single(entry, 'changeTime') ?? '';
  if (!CHANGE_TIME.test(changeTime))
    throw new Error(
      `changeNumber ${changeNumber}: changeTime ${JSON.stringify(changeTime)} is not a generalized time`,
    );
  const uniqueId = single(entry, 'targetUniqueId');
  if (!uniqueId)
    throw new Error(
      `changeNumber ${changeNumber}: record without targetUniqueId (the Retro Changelog plug-in needs nsslapd-attribute: nsuniqueid:targetUniqueId)`,
    );
  const parsed = changesOf(operation as LogOperation, single(entry, 'changes') ?? '');
  const newDn = operation === 'modrdn' ? renamedDn(entry, dn) : undefined;
  if (operation === 'modrdn' && newDn === undefined)
    throw new Error(`changeNumber ${changeNumber}: modrdn without newRDN`);
  return {
    changeNumber,
    reqStart: changeTime,
    operation: operation as LogOperation,
    dn,
    entryUuid: uniqueId.toLowerCase(),
    ...parsed,
    ...(newDn ? { newDn } : {}),
    // changeTime has 1 s resolution and numbers restart with a recreated changelog: all three.
    eventKey: `changelog:${changeNumber}:${uniqueId.toLowerCase()}:${changeTime}`,
  };
}

/** Where the changelog stands (rootDSE firstchangenumber / lastchangenumber; absent when empty). */
export interface ChangelogBounds {
  first?: number;
  last?: number;
}

/**
 * Whether the changelog still continues from `position` (the last changeNumber handled): a first
 * number past position + 1 means unread records were trimmed; a last number below the position
 * (or an empty changelog) means it was recreated or the directory restored from a backup. Either way only a
 * full reconciliation tells what changed.
 */
export function changelogGap(position: number, bounds: ChangelogBounds): string | undefined {
  // Trimming keeps the newest record: an empty changelog after records were read is a new one.
  if (bounds.last === undefined && position > 0)
    return `the changelog is empty after the position ${position} (recreated, or the directory was restored)`;
  if (bounds.last !== undefined && bounds.last < position)
    return `the changelog ends at ${bounds.last}, before the position ${position} (recreated, or the directory was restored)`;
  if (bounds.first !== undefined && bounds.first > position + 1)
    return `the changelog starts at ${bounds.first}: records after the position ${position} were trimmed`;
  return undefined;
}
