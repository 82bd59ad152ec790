/**
 * One mapping file's text -> YAML with source positions -> the JSON Schema check (ajv) of its
 * shape. Problems point at file:line:column of the offending key.
 */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { SourceLocation } from './compiled.ts';
import type { MappingFile } from './model.ts';
import { MappingError, type MappingProblem } from './problems.ts';

export const MAPPING_JSON_SCHEMA_PATH = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../mappings/mapping.schema.json',
);

let validator: ReturnType<Ajv['compile']> | undefined;
function mappingValidator(): ReturnType<Ajv['compile']> {
  if (!validator) {
    const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false });
    validator = ajv.compile(JSON.parse(readFileSync(MAPPING_JSON_SCHEMA_PATH, 'utf8')));
  }
  return validator;
}

/** A YAML document with a way to turn a key path into a line and column. */
export interface ParsedMappingFile {
  file: string;
  data: MappingFile;
  locate(path: (string | number)[], keyNotValue?: boolean): SourceLocation;
}

export function parseMappingText(file: string, text: string): ParsedMappingFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const position = (offset: number): SourceLocation => {
    const { line, col } = lineCounter.linePos(offset);
    return { file, line, column: col };
  };
  const problems: MappingProblem[] = [];
  for (const error of [...doc.errors, ...doc.warnings]) {
    problems.push({
      ...position(error.pos[0]),
      key: '',
      message: error.message.split('\n')[0] ?? error.message,
    });
  }
  if (problems.length > 0) throw new MappingError(problems);
  const locate = (path: (string | number)[], keyNotValue = false): SourceLocation => {
    // Walk down as far as the path exists; point at the key when asked (missing or extra keys).
    for (let depth = path.length; depth >= 0; depth--) {
      const prefix = path.slice(0, depth);
      if (keyNotValue && depth === path.length && depth > 0) {
        const parent = doc.getIn(prefix.slice(0, -1), true);
        if (isNode(parent) && 'items' in parent) {
          const items = (parent as { items: { key?: unknown }[] }).items;
          const pair = items.find(
            (item) => isNode(item.key) && (item.key as { value?: unknown }).value === prefix.at(-1),
          );
          if (pair && isNode(pair.key) && pair.key.range) return position(pair.key.range[0]);
        }
        continue;
      }
      const node = prefix.length === 0 ? doc.contents : doc.getIn(prefix, true);
      if (isNode(node) && node.range) return position(node.range[0]);
    }
    return { file, line: 1, column: 1 };
  };
  const data = doc.toJS({ maxAliasCount: 100 }) as MappingFile;
  return { file, data, locate };
}

/** What the JSON Schema (mappings/mapping.schema.json) finds wrong with a file's shape. */
export function schemaProblems(parsed: ParsedMappingFile): MappingProblem[] {
  const validate = mappingValidator();
  if (validate(parsed.data)) return [];
  return (validate.errors ?? []).map((e) => ajvProblem(parsed, e));
}

function ajvProblem(parsed: ParsedMappingFile, error: ErrorObject): MappingProblem {
  const path = error.instancePath
    .split('/')
    .slice(1)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
  const key = path.join('.');
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'additionalProperties': {
      const extra = String(params.additionalProperty);
      return {
        ...parsed.locate([...path, extra], true),
        key: key ? `${key}.${extra}` : extra,
        message: `unknown key "${extra}"`,
        hint: 'check the spelling against mappings/mapping.schema.json',
      };
    }
    case 'required':
      return {
        ...parsed.locate(path),
        key,
        message: `missing required key "${String(params.missingProperty)}"`,
      };
    case 'enum':
      return {
        ...parsed.locate(path),
        key,
        message: `must be one of ${(params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`,
      };
    default:
      return { ...parsed.locate(path), key, message: error.message ?? 'is invalid' };
  }
}
