/**
 * The raw configuration as plain data (sections of YAML mappings, before validation) and how its
 * values appear in messages: kinds, quoted and truncated values, secrets never shown.
 */
import { didYouMean } from '../lib/did-you-mean.ts';
import { redactUrlCredentials } from './redact.ts';
import { isSecretPath, REDACTED } from './settings.ts';

/** One step of a setting's path: a key, or an index in a list. */
export type Segment = string | number;
export type Obj = Record<string, unknown>;

export function isObj(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

export function getAt(data: unknown, segments: readonly Segment[]): unknown {
  let node = data;
  for (const s of segments) {
    if (isObj(node)) node = node[String(s)];
    else if (Array.isArray(node) && typeof s === 'number') node = node[s];
    else return undefined;
  }
  return node;
}

/** Sets a value, creating missing sections; returns false when a section on the way is not a mapping. */
export function setAt(data: Obj, segments: readonly string[], value: unknown): boolean {
  let node = data;
  for (const s of segments.slice(0, -1)) {
    const next = node[s];
    if (next === undefined) node[s] = {};
    else if (!isObj(next)) return false;
    node = node[s] as Obj;
  }
  node[segments[segments.length - 1]!] = value;
  return true;
}

export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

/** A value as shown in messages: quoted, truncated, credentials masked; secrets and structures not shown. */
export function show(value: unknown, segments: readonly Segment[]): string {
  if (isSecretPath(segments)) return REDACTED;
  if (typeof value === 'string') {
    const masked = redactUrlCredentials(value);
    const cut = masked.length > 80 ? `${masked.slice(0, 77)}...` : masked;
    return `'${JSON.stringify(cut).slice(1, -1).replace(/'/g, "\\'")}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return kindOf(value);
}

export function kindOfType(type: string | undefined): string {
  switch (type) {
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    default:
      return `a ${type ?? 'value'}`;
  }
}

/** A setting's plausible typo: two edits, more for long names (one per four letters). */
export function closestSetting(word: string, candidates: Iterable<string>): string | undefined {
  return didYouMean(word, candidates, Math.max(2, Math.floor(word.length / 4)));
}
