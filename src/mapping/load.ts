/**
 * Loads mappings/<preset>/*.yaml as one set: each file parsed and shape-checked (parse.ts), then
 * compiled (compile.ts), then checked across files (names, references). Every problem is reported
 * as file:line:column with the key and a hint; a set with any problem is rejected as a whole.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import type { SchemaDefinition } from '../scim/schema-types.ts';
import { compileResourceType } from './compile.ts';
import type { CompiledResourceType, MappingSet } from './compiled.ts';
import { type ParsedMappingFile, parseMappingText, schemaProblems } from './parse.ts';
import { MappingError, type MappingProblem } from './problems.ts';

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
  const { parsedFiles, problems } = parseAll(files);
  const fullCatalog = withCustomSchemas(catalog, parsedFiles);
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
  const schemas = publishedSchemas(resourceTypes);
  resourceTypes.sort((a, b) => publicationRank(a) - publicationRank(b) || a.name.localeCompare(b.name));
  return { resourceTypes, schemas, source, loadedAt: new Date() };
}

/** Every file parsed and shape-checked; the ones with problems are left out of `parsedFiles`. */
function parseAll(files: { file: string; text: string }[]): {
  parsedFiles: ParsedMappingFile[];
  problems: MappingProblem[];
} {
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
  return { parsedFiles, problems };
}

/** Custom schemas declared by any file are visible to every file of the set. */
function withCustomSchemas(
  catalog: ReadonlyMap<string, SchemaDefinition>,
  parsedFiles: ParsedMappingFile[],
): Map<string, SchemaDefinition> {
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
  return fullCatalog;
}

/** The schemas /Schemas publishes, in the order the resource types first use them. */
function publishedSchemas(resourceTypes: CompiledResourceType[]): SchemaDefinition[] {
  const schemas = new Map<string, SchemaDefinition>();
  for (const rt of resourceTypes) {
    for (const s of [rt.coreSchema, ...rt.extensions.map((e) => e.schema)]) {
      const existing = schemas.get(s.id);
      schemas.set(s.id, existing ? mergeSchemas(existing, s) : s);
    }
  }
  return [...schemas.values()];
}

/** RFC 7643's own resource types first (clients such as Entra's validator look at Resources[0]). */
function publicationRank(rt: CompiledResourceType): number {
  return rt.coreSchema.id === 'urn:ietf:params:scim:schemas:core:2.0:User'
    ? 0
    : rt.coreSchema.id === 'urn:ietf:params:scim:schemas:core:2.0:Group'
      ? 1
      : 2;
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
