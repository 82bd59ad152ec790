/**
 * Loads mappings/<preset>/*.yaml: YAML with source positions -> JSON Schema check (ajv) ->
 * semantic checks and compilation. Every problem is reported as file:line:column with the key
 * and a hint; a set with any problem is rejected as a whole.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ErrorObject } from 'ajv';
import { isNode, LineCounter, parseDocument } from 'yaml';
import type { SchemaDefinition } from '../scim/schema-types.ts';
import { compileResourceType } from './compile.ts';
import type { CompiledResourceType, MappingSet, SourceLocation } from './compiled.ts';
import type { MappingFile } from './model.ts';

export interface MappingProblem extends SourceLocation {
  /** Dotted path of the offending key inside the file. */
  key: string;
  message: string;
  hint?: string;
}

export class MappingError extends Error {
  override readonly name = 'MappingError';
  readonly problems: MappingProblem[];
  constructor(problems: MappingProblem[]) {
    super(problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}

export function formatProblem(p: MappingProblem): string {
  return `${p.file}:${p.line}:${p.column} ${p.key ? `${p.key}: ` : ''}${p.message}${p.hint ? ` (hint: ${p.hint})` : ''}`;
}

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

function schemaProblems(parsed: ParsedMappingFile): MappingProblem[] {
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

/** Loads and compiles every *.yaml / *.yml file of a directory. Throws MappingError listing all problems. */
export function loadMappingDirectory(
  dir: string,
  catalog: ReadonlyMap<string, SchemaDefinition>,
): MappingSet {
  const absolute = resolve(dir);
  let names: string[];
  try {
    names = readdirSync(absolute)
      .filter((n) => /\.ya?ml$/.test(n))
      .sort();
  } catch (error) {
    throw new MappingError([
      {
        file: absolute,
        line: 1,
        column: 1,
        key: '',
        message: `cannot read the mapping directory: ${String(error)}`,
      },
    ]);
  }
  if (names.length === 0) {
    throw new MappingError([
      { file: absolute, line: 1, column: 1, key: '', message: 'no mapping files (*.yaml) in this directory' },
    ]);
  }
  const files = names.map((name) => ({
    file: join(absolute, name),
    text: readFileSync(join(absolute, name), 'utf8'),
  }));
  return compileMappingTexts(files, catalog, absolute);
}

export function compileMappingTexts(
  files: { file: string; text: string }[],
  catalog: ReadonlyMap<string, SchemaDefinition>,
  source = '(memory)',
): MappingSet {
  const problems: MappingProblem[] = [];
  const parsedFiles: ParsedMappingFile[] = [];
  for (const { file, text } of files) {
    try {
      const parsed = parseMappingText(file, text);
      const found = schemaProblems(parsed);
      if (found.length > 0) problems.push(...found);
      else parsedFiles.push(parsed);
    } catch (error) {
      if (error instanceof MappingError) problems.push(...error.problems);
      else throw error;
    }
  }
  // Custom schemas declared by any file are visible to every file of the set.
  const fullCatalog = new Map(catalog);
  for (const parsed of parsedFiles) {
    for (const custom of parsed.data.customSchemas ?? []) {
      fullCatalog.set(custom.id, {
        id: custom.id,
        name: custom.name,
        description: custom.description ?? custom.name,
        attributes: custom.attributes.map((a) => ({
          name: a.name,
          type: a.type,
          multiValued: a.multiValued ?? false,
          description: a.description ?? a.name,
          required: a.required ?? false,
          caseExact: a.caseExact ?? false,
          mutability: a.mutability ?? 'readWrite',
          returned: a.returned ?? 'default',
          uniqueness: a.uniqueness ?? 'none',
        })),
      });
    }
  }
  const resourceTypes: CompiledResourceType[] = [];
  for (const parsed of parsedFiles) {
    const result = compileResourceType(parsed, fullCatalog);
    problems.push(...result.problems);
    if (result.resourceType) resourceTypes.push(result.resourceType);
  }
  // Names declared by files that failed count too, so one broken file does not cascade into others.
  const declaredNames = [
    ...new Set([
      ...parsedFiles.map((p) => p.data.resourceType),
      ...files.map((f) => /^resourceType:\s*(\S+)/m.exec(f.text)?.[1] ?? ''),
    ]),
  ].filter(Boolean);
  problems.push(...crossFileProblems(resourceTypes, parsedFiles, declaredNames));
  if (problems.length > 0) throw new MappingError(problems);
  const schemas = new Map<string, SchemaDefinition>();
  for (const rt of resourceTypes) {
    for (const s of [rt.coreSchema, ...rt.extensions.map((e) => e.schema)]) {
      const existing = schemas.get(s.id);
      schemas.set(s.id, existing ? mergeSchemas(existing, s) : s);
    }
  }
  // RFC 7643's own resource types first (clients such as Entra's validator look at Resources[0]).
  const rank = (rt: CompiledResourceType) =>
    rt.coreSchema.id === 'urn:ietf:params:scim:schemas:core:2.0:User'
      ? 0
      : rt.coreSchema.id === 'urn:ietf:params:scim:schemas:core:2.0:Group'
        ? 1
        : 2;
  resourceTypes.sort((a, b) => rank(a) - rank(b) || a.name.localeCompare(b.name));
  return { resourceTypes, schemas: [...schemas.values()], source, loadedAt: new Date() };
}

function crossFileProblems(
  resourceTypes: CompiledResourceType[],
  parsed: ParsedMappingFile[],
  declaredNames: string[],
): MappingProblem[] {
  const problems: MappingProblem[] = [];
  const seen = new Map<string, CompiledResourceType>();
  for (const rt of resourceTypes) {
    const file = parsed.find((p) => p.file === rt.file);
    for (const key of [rt.name.toLowerCase(), rt.endpoint.toLowerCase()]) {
      const other = seen.get(key);
      if (other && other !== rt) {
        problems.push({
          ...(file?.locate(['resourceType']) ?? { file: rt.file, line: 1, column: 1 }),
          key: 'resourceType',
          message: `resource type or endpoint "${key}" is also defined in ${basename(other.file)}`,
        });
      }
      seen.set(key, rt);
    }
    for (const rule of rt.rules) {
      for (const ref of rule.references ?? []) {
        if (!declaredNames.includes(ref)) {
          problems.push({
            ...rule.location,
            key: `attributes.${rule.key}.references`,
            message: `references unknown resource type "${ref}"`,
            hint: `defined resource types: ${declaredNames.join(', ')}`,
          });
        }
      }
    }
  }
  return problems;
}

/** Two resource types may share a schema (rare); publish the union of what both map. */
function mergeSchemas(a: SchemaDefinition, b: SchemaDefinition): SchemaDefinition {
  const names = new Set(a.attributes.map((x) => x.name));
  return { ...a, attributes: [...a.attributes, ...b.attributes.filter((x) => !names.has(x.name))] };
}
