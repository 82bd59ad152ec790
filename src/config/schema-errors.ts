/**
 * What the schema validator (ajv) found, in the admin's words: each error names the setting, where
 * its value came from and the expected form (from the schema's own description of the setting).
 * Values of secret settings, and of unknown keys (a misspelt key may hold a secret), never appear.
 */
import type { ErrorObject } from 'ajv';
import { formats } from './formats.ts';
import type { Loader } from './layers.ts';
import { describeExpected, displayPath, type SchemaNode } from './settings.ts';
import { closestSetting, isObj, kindOf, kindOfType, type Segment, show } from './values.ts';

export function reportSchemaErrors(loader: Loader, errors: readonly ErrorObject[]): void {
  for (const e of errors) {
    const segments = segmentsOf(e.instancePath);
    const node = (e.parentSchema ?? {}) as SchemaNode;
    switch (e.keyword) {
      case 'additionalProperties':
        reportUnknownKey(
          loader,
          segments,
          node,
          String((e.params as { additionalProperty: string }).additionalProperty),
        );
        break;
      case 'required': {
        const missing = String((e.params as { missingProperty: string }).missingProperty);
        const child = node.properties?.[missing] ?? {};
        loader.problems.push({
          setting: displayPath([...segments, missing]),
          source: loader.sourceOf(segments),
          text: `is missing; expected ${describeExpected(child)}`,
        });
        break;
      }
      case 'type':
        reportWrongType(loader, segments, node, e.data);
        break;
      default:
        loader.problem(segments, `${describeValueError(e, segments)}; expected ${describeExpected(node)}`);
    }
  }
}

/** Paths (dotted, array indices as numbers) that failed schema validation, and their ancestors/descendants. */
export function invalidKeys(errors: readonly ErrorObject[]): Set<string> {
  const out = new Set<string>();
  for (const e of errors) {
    const segments = e.instancePath.split('/').slice(1);
    for (let i = 1; i <= segments.length; i++) out.add(segments.slice(0, i).join('.'));
  }
  return out;
}

/** A JSON Pointer (RFC 6901) as setting path segments, list indices as numbers. */
function segmentsOf(instancePath: string): Segment[] {
  return instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
}

function reportUnknownKey(loader: Loader, segments: Segment[], node: SchemaNode, extra: string): void {
  const known = Object.keys(node.properties ?? {});
  const guess = closestSetting(extra, known);
  // The value is never shown: a misspelt key may well hold a secret.
  loader.problems.push({
    setting: displayPath([...segments, extra]),
    source: loader.sourceOf(segments, extra),
    text: `unknown setting${guess ? `; did you mean ${displayPath([...segments, guess])}?` : ''} (known here: ${known.join(', ')})`,
  });
}

function reportWrongType(loader: Loader, segments: Segment[], node: SchemaNode, value: unknown): void {
  let hint = '';
  if (node.type === 'string' && (typeof value === 'number' || typeof value === 'boolean')) {
    hint = ' (quote it in YAML)';
  } else if (node.type === 'string' && isObj(value) && 'file' in value) {
    hint = ' ({ file: ... } is accepted for secret settings only)';
  }
  const scalar = typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean';
  const shown =
    node.type === 'object' || node.type === 'array' || !scalar
      ? `got ${kindOf(value)}`
      : `${show(value, segments)} is not ${kindOfType(node.type)}`;
  loader.problem(segments, `${shown}; expected ${describeExpected(node)}${hint}`);
}

/** What is wrong with a value of the right type (format, range, length, form). */
function describeValueError(e: ErrorObject, segments: Segment[]): string {
  const value: unknown = e.data;
  switch (e.keyword) {
    case 'format':
      return `${show(value, segments)} is not ${formats[String((e.params as { format: string }).format)]?.noun ?? 'valid'}`;
    case 'enum':
      return `${show(value, segments)} is not a valid value`;
    case 'minimum':
    case 'exclusiveMinimum':
      return `${show(value, segments)} is too small`;
    case 'maximum':
    case 'exclusiveMaximum':
      return `${show(value, segments)} is too large`;
    case 'minLength':
      return value === '' ? 'is empty' : `${show(value, segments)} is too short`;
    case 'pattern':
      return `${show(value, segments)} does not have the expected form`;
    default:
      return `${show(value, segments)} ${e.message ?? 'is invalid'}`;
  }
}
