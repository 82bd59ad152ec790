/**
 * Semantic checks and compilation of one parsed mapping file into a CompiledResourceType.
 * The JSON Schema has already checked the shape; this checks meaning: attributes exist in the
 * declared schemas (compile-rule.ts), targets are not mapped twice, templates reference mapped
 * attributes, the directory settings fit together.
 */

import type { AttributeDefinition, SchemaDefinition } from '../scim/schema-types.ts';
import { compileRule } from './compile-rule.ts';
import {
  type CompiledDirectory,
  type CompiledResourceType,
  type CompiledRule,
  type ComputedAttribute,
  ruleMatchesPath,
  rulePath,
  type SourceLocation,
} from './compiled.ts';
import { LdapTextError, parseLdapFilter } from './ldap-text.ts';
import type { DirectorySpec } from './model.ts';
import type { ParsedMappingFile } from './parse.ts';
import type { MappingProblem } from './problems.ts';

/** Binary id attributes, returned as bytes by the directory. */
const BINARY_ID_ATTRIBUTES = new Set(['objectGUID']);

/** Reports a problem at a place in the file. */
type Problem = (at: SourceLocation, key: string, message: string, hint?: string) => void;

interface ResolvedSchemas {
  coreSchema: SchemaDefinition;
  extensions: { schema: SchemaDefinition; required: boolean }[];
}

/** What the directory section's checks derive for the compiled directory. */
interface CheckedDirectory {
  rdnMatch: RegExpExecArray | null;
  computed: ComputedAttribute[];
  scopeFilter: CompiledDirectory['scopeFilter'];
}

export function compileResourceType(
  parsed: ParsedMappingFile,
  catalog: ReadonlyMap<string, SchemaDefinition>,
): { resourceType?: CompiledResourceType; problems: MappingProblem[] } {
  const problems: MappingProblem[] = [];
  const problem: Problem = (at, key, message, hint) => {
    problems.push({ ...at, key, message, ...(hint ? { hint } : {}) });
  };
  const schemas = resolveSchemas(parsed, catalog, problem);
  if (!schemas) return { problems };
  const rules = compileRules(parsed, schemas, problem);
  const checked = checkDirectory(parsed, rules, problem);
  if (problems.length > 0) return { problems };
  return { resourceType: assemble(parsed, schemas, rules, checked), problems };
}

/** The core schema and the declared extensions, looked up in the catalog. */
function resolveSchemas(
  parsed: ParsedMappingFile,
  catalog: ReadonlyMap<string, SchemaDefinition>,
  problem: Problem,
): ResolvedSchemas | undefined {
  const spec = parsed.data;
  const coreSchema = catalog.get(spec.schema);
  if (!coreSchema) {
    problem(
      parsed.locate(['schema']),
      'schema',
      `unknown schema "${spec.schema}"`,
      knownSchemasHint(catalog),
    );
    return undefined;
  }
  const extensions: ResolvedSchemas['extensions'] = [];
  (spec.extensions ?? []).forEach((ext, i) => {
    const schema = catalog.get(ext.schema);
    if (!schema) {
      problem(
        parsed.locate(['extensions', i, 'schema']),
        `extensions.${i}.schema`,
        `unknown schema "${ext.schema}"`,
        `${knownSchemasHint(catalog)}; declare custom ones under customSchemas`,
      );
    } else extensions.push({ schema, required: ext.required ?? false });
  });
  return { coreSchema, extensions };
}

/** Every attribute rule; each SCIM attribute mapped once, each LDAP attribute written by one rule. */
function compileRules(
  parsed: ParsedMappingFile,
  { coreSchema, extensions }: ResolvedSchemas,
  problem: Problem,
): CompiledRule[] {
  const rules: CompiledRule[] = [];
  const targets = new Map<string, string>();
  const writtenLdap = new Map<string, string>();
  for (const [key, ruleSpec] of Object.entries(parsed.data.attributes)) {
    const at = parsed.locate(['attributes', key], true);
    const rule = compileRule(key, ruleSpec, at, coreSchema, extensions, (message, hint) =>
      problem(at, `attributes.${key}`, message, hint),
    );
    if (!rule) continue;
    const target = [rule.schema, rule.attribute, rule.typeValue ?? '', rule.subAttribute ?? '']
      .join('|')
      .toLowerCase();
    const previous = targets.get(target);
    if (previous) {
      problem(
        at,
        `attributes.${key}`,
        `maps the same SCIM attribute as "${previous}"`,
        'map each SCIM attribute once',
      );
      continue;
    }
    targets.set(target, key);
    if (!rule.readOnly) {
      const other = writtenLdap.get(rule.ldapKey);
      if (other) {
        problem(
          at,
          `attributes.${key}`,
          `LDAP attribute "${rule.ldap}" is already written by "${other}"`,
          'two SCIM attributes writing one LDAP attribute would overwrite each other; mark one readOnly',
        );
        continue;
      }
      writtenLdap.set(rule.ldapKey, key);
    }
    rules.push(rule);
  }
  return rules;
}

/** The directory section: templates name mapped attributes, the DN starts with an RDN, the filter parses. */
function checkDirectory(
  parsed: ParsedMappingFile,
  rules: CompiledRule[],
  problem: Problem,
): CheckedDirectory {
  const dir = parsed.data.directory;
  const mappedPaths = new Set(rules.map((r) => rulePath(r).toLowerCase()));
  const checkTemplate = (template: string, at: SourceLocation, key: string): void => {
    for (const path of placeholders(template).flat()) {
      if (!rules.some((rule) => ruleMatchesPath(rule, path))) {
        problem(
          at,
          key,
          `template references "${path}", which is not mapped`,
          `mapped: ${[...mappedPaths].join(', ')}`,
        );
      }
    }
  };
  const dnAt = parsed.locate(['directory', 'dnTemplate']);
  checkTemplate(dir.dnTemplate, dnAt, 'directory.dnTemplate');
  const rdnMatch = /^([A-Za-z][A-Za-z0-9-]*)=\{([^}|]+)\}(?:,|$)/.exec(dir.dnTemplate);
  if (!rdnMatch) {
    problem(
      dnAt,
      'directory.dnTemplate',
      'must start with an RDN fed by one SCIM attribute',
      'e.g. uid={userName},ou=People,dc=example,dc=com',
    );
  }
  if (!dir.dnTemplate.toLowerCase().endsWith(dir.base.toLowerCase())) {
    problem(dnAt, 'directory.dnTemplate', `new entries would not be under the base "${dir.base}"`);
  }
  const computed: ComputedAttribute[] = [];
  for (const [ldap, template] of Object.entries(dir.computed ?? {})) {
    const at = parsed.locate(['directory', 'computed', ldap]);
    checkTemplate(template, at, `directory.computed.${ldap}`);
    computed.push({ ldap, ldapKey: ldap.toLowerCase(), template, alternatives: template.split('|') });
  }
  const scopeFilter = checkScopeFilter(parsed, problem);
  if (
    dir.deleteMode === 'disable' &&
    !rules.some((r) => r.isCore && r.attribute === 'active' && !r.readOnly)
  ) {
    problem(
      parsed.locate(['directory', 'deleteMode']),
      'directory.deleteMode',
      'deleteMode "disable" needs a writable mapping of active',
      'map active (e.g. active: { ldap: userAccountControl, transform: adAccountDisabled }) or use deleteMode: delete',
    );
  }
  return { rdnMatch, computed, scopeFilter };
}

/** directory.filter, the admin's RFC 4515 text, parsed. */
function checkScopeFilter(parsed: ParsedMappingFile, problem: Problem): CompiledDirectory['scopeFilter'] {
  try {
    return parseLdapFilter(parsed.data.directory.filter);
  } catch (error) {
    if (!(error instanceof LdapTextError)) throw error;
    problem(
      parsed.locate(['directory', 'filter']),
      'directory.filter',
      error.message,
      'an RFC 4515 filter such as (objectClass=inetOrgPerson)',
    );
    return { type: 'true' };
  }
}

/** The compiled resource type of a file that passed every check. */
function assemble(
  parsed: ParsedMappingFile,
  { coreSchema, extensions }: ResolvedSchemas,
  rules: CompiledRule[],
  checked: CheckedDirectory,
): CompiledResourceType {
  const spec = parsed.data;
  const usedSchemas = new Set(rules.map((r) => r.schema));
  return {
    name: spec.resourceType,
    endpoint: spec.endpoint,
    description: spec.description ?? spec.resourceType,
    file: parsed.file,
    coreSchema: publishedSchema(coreSchema, rules),
    extensions: extensions
      .filter((e) => e.required || usedSchemas.has(e.schema.id))
      .map((e) => ({ schema: publishedSchema(e.schema, rules), required: e.required })),
    directory: compiledDirectory(parsed, rules, checked),
    rules,
    patchResponse: spec.patchResponse ?? 200,
  };
}

function compiledDirectory(
  parsed: ParsedMappingFile,
  rules: CompiledRule[],
  { rdnMatch, computed, scopeFilter }: CheckedDirectory,
): CompiledDirectory {
  const dir = parsed.data.directory;
  return {
    base: dir.base,
    scope: dir.scope ?? 'sub',
    objectClasses: dir.objectClasses,
    scopeFilter,
    scopeFilterText: dir.filter,
    dnTemplate: dir.dnTemplate,
    rdnAttribute: rdnMatch?.[1] ?? '',
    rdnPath: rdnMatch?.[2] ?? '',
    idAttribute: dir.id,
    versionAttribute: dir.version,
    createdAttribute: dir.created ?? 'createTimestamp',
    lastModifiedAttribute: dir.lastModified ?? 'modifyTimestamp',
    sort: dir.sort ?? { attribute: rdnMatch?.[1] ?? 'cn', orderingRule: 'caseIgnoreOrderingMatch' },
    computed,
    ...(dir.fallbackMarker ? { fallbackMarker: dir.fallbackMarker } : {}),
    ...(dir.emptyGroupPlaceholder ? { emptyGroupPlaceholder: dir.emptyGroupPlaceholder } : {}),
    deleteMode: dir.deleteMode ?? 'delete',
    locations: directoryLocations(parsed, dir),
    // The id attribute and attributes read through a binary transform (guid) come back as bytes.
    binaryAttributes: [
      ...new Set([
        ...(BINARY_ID_ATTRIBUTES.has(dir.id) ? [dir.id] : []),
        ...rules.filter((r) => r.transform.binary).map((r) => r.ldap),
      ]),
    ],
  };
}

/** Where each directory setting is written, for later checks (subschema.ts) to point at. */
function directoryLocations(parsed: ParsedMappingFile, dir: DirectorySpec): Record<string, SourceLocation> {
  const locations: Record<string, SourceLocation> = { directory: parsed.locate(['directory'], true) };
  const locateSetting = (path: (string | number)[], keyNotValue = false): void => {
    locations[['directory', ...path].join('.')] = parsed.locate(['directory', ...path], keyNotValue);
  };
  for (const key of [
    'filter',
    'dnTemplate',
    'id',
    'version',
    'created',
    'lastModified',
    'fallbackMarker',
  ] as const) {
    if (dir[key] !== undefined) locateSetting([key]);
  }
  for (let i = 0; i < dir.objectClasses.length; i++) locateSetting(['objectClasses', i]);
  if (dir.sort) locateSetting(['sort', 'attribute']);
  for (const ldap of Object.keys(dir.computed ?? {})) locateSetting(['computed', ldap], true);
  return locations;
}

/** `{displayName|userName} x {a}` -> [["displayName","userName"],["a"]]. */
export function placeholders(template: string): string[][] {
  return [...template.matchAll(/\{([^}]+)\}/g)].map((m) => (m[1] ?? '').split('|').map((s) => s.trim()));
}

/** What /Schemas publishes: only mapped attributes, and of complex ones only mapped sub-attributes. */
function publishedSchema(schema: SchemaDefinition, rules: CompiledRule[]): SchemaDefinition {
  const mine = rules.filter((r) => r.schema === schema.id && r.attribute !== 'externalId');
  const attributes: AttributeDefinition[] = [];
  for (const definition of schema.attributes) {
    const forAttribute = mine.filter((r) => r.attribute === definition.name);
    if (forAttribute.length === 0) continue;
    const first = forAttribute[0]!;
    if (definition.type !== 'complex') {
      attributes.push(first.attributeDefinition);
      continue;
    }
    const subNames = new Set<string>();
    for (const r of forAttribute) {
      if (r.subAttribute) subNames.add(r.subAttribute);
      if (r.typeValue !== undefined) subNames.add('type');
      if (r.primary) subNames.add('primary');
      if (r.references) {
        subNames.add('$ref');
        subNames.add('display');
        if (definition.subAttributes?.some((s) => s.name === 'type')) subNames.add('type');
      }
    }
    const subAttributes = (definition.subAttributes ?? [])
      .filter((s) => subNames.has(s.name))
      .map((s) => forAttribute.find((r) => r.subAttribute === s.name)?.leafDefinition ?? s)
      .map((s) =>
        s.name === 'type' && forAttribute.some((r) => r.typeValue !== undefined)
          ? {
              ...s,
              canonicalValues: [
                ...new Set(forAttribute.map((r) => r.typeValue).filter((v): v is string => v !== undefined)),
              ],
            }
          : s,
      );
    const readOnly = forAttribute.every((r) => r.readOnly);
    attributes.push({
      ...definition,
      ...(readOnly ? { mutability: 'readOnly' as const } : {}),
      subAttributes,
    });
  }
  return { ...schema, attributes };
}

function knownSchemasHint(catalog: ReadonlyMap<string, SchemaDefinition>): string {
  return `known schemas: ${[...catalog.keys()].join(', ')}`;
}
