/**
 * Semantic checks and compilation of one parsed mapping file into a CompiledResourceType.
 * The JSON Schema has already checked the shape; this checks meaning: attributes exist in the
 * declared schemas, targets are not mapped twice, transforms fit the attribute type, templates
 * reference mapped attributes.
 */

import { didYouMean } from '../lib/did-you-mean.ts';
import { parsePatchPath } from '../scim/filter.ts';
import type { FilterNode, PatchPath } from '../scim/filter-ast.ts';
import type { AttributeDefinition, SchemaDefinition } from '../scim/schema-types.ts';
import {
  type CompiledResourceType,
  type CompiledRule,
  type ComputedAttribute,
  ruleMatchesPath,
  rulePath,
  type SourceLocation,
} from './compiled.ts';
import { LdapTextError, parseLdapFilter } from './ldap-text.ts';
import type { AttributeRuleSpec } from './model.ts';
import type { ParsedMappingFile } from './parse.ts';
import type { MappingProblem } from './problems.ts';
import { splitTransform, TRANSFORMS, type Transform } from './transforms.ts';

/** RFC 7643 §3.1: externalId is a common attribute of every resource, not part of the core schemas. */
export const EXTERNAL_ID_DEFINITION: AttributeDefinition = {
  name: 'externalId',
  type: 'string',
  multiValued: false,
  description: 'Identifier of the resource as defined by the provisioning client.',
  required: false,
  caseExact: true,
  mutability: 'readWrite',
  returned: 'default',
  uniqueness: 'none',
};

const DEFAULT_TRANSFORM_BY_TYPE: Record<string, string> = {
  boolean: 'boolean',
  integer: 'integer',
  dateTime: 'dateTime',
};

/** Binary id attributes, returned as bytes by the directory. */
const BINARY_ID_ATTRIBUTES = new Set(['objectGUID']);

export function compileResourceType(
  parsed: ParsedMappingFile,
  catalog: ReadonlyMap<string, SchemaDefinition>,
): { resourceType?: CompiledResourceType; problems: MappingProblem[] } {
  const spec = parsed.data;
  const problems: MappingProblem[] = [];
  const problem = (at: SourceLocation, key: string, message: string, hint?: string): void => {
    problems.push({ ...at, key, message, ...(hint ? { hint } : {}) });
  };

  const coreSchema = catalog.get(spec.schema);
  if (!coreSchema) {
    problem(
      parsed.locate(['schema']),
      'schema',
      `unknown schema "${spec.schema}"`,
      knownSchemasHint(catalog),
    );
    return { problems };
  }
  const extensions: { schema: SchemaDefinition; required: boolean }[] = [];
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

  const rules: CompiledRule[] = [];
  const targets = new Map<string, string>();
  const writtenLdap = new Map<string, string>();
  for (const [key, ruleSpec] of Object.entries(spec.attributes)) {
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

  const mappedPaths = new Set(rules.map((r) => rulePath(r).toLowerCase()));
  const checkTemplate = (template: string, at: SourceLocation, key: string): string[] => {
    const alternatives = placeholders(template);
    for (const path of alternatives.flat()) {
      if (!rules.some((rule) => ruleMatchesPath(rule, path))) {
        problem(
          at,
          key,
          `template references "${path}", which is not mapped`,
          `mapped: ${[...mappedPaths].join(', ')}`,
        );
      }
    }
    return alternatives.flat();
  };

  const dir = spec.directory;
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
  let scopeFilter: ReturnType<typeof parseLdapFilter> = { type: 'true' };
  try {
    scopeFilter = parseLdapFilter(dir.filter);
  } catch (error) {
    if (!(error instanceof LdapTextError)) throw error;
    problem(
      parsed.locate(['directory', 'filter']),
      'directory.filter',
      error.message,
      'an RFC 4515 filter such as (objectClass=inetOrgPerson)',
    );
  }
  const sort = dir.sort ?? { attribute: rdnMatch?.[1] ?? 'cn', orderingRule: 'caseIgnoreOrderingMatch' };

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
  if (problems.length > 0) return { problems };
  // Where each directory setting is written, for later checks (subschema.ts) to point at.
  const directoryLocations: Record<string, SourceLocation> = {
    directory: parsed.locate(['directory'], true),
  };
  const locateSetting = (path: (string | number)[], keyNotValue = false): void => {
    directoryLocations[['directory', ...path].join('.')] = parsed.locate(['directory', ...path], keyNotValue);
  };
  for (const key of ['filter', 'dnTemplate', 'id', 'version', 'created', 'lastModified'] as const) {
    if (dir[key] !== undefined) locateSetting([key]);
  }
  for (let i = 0; i < dir.objectClasses.length; i++) locateSetting(['objectClasses', i]);
  if (dir.sort) locateSetting(['sort', 'attribute']);
  for (const ldap of Object.keys(dir.computed ?? {})) locateSetting(['computed', ldap], true);
  const usedSchemas = new Set(rules.map((r) => r.schema));
  const resourceType: CompiledResourceType = {
    name: spec.resourceType,
    endpoint: spec.endpoint,
    description: spec.description ?? spec.resourceType,
    file: parsed.file,
    coreSchema: publishedSchema(coreSchema, rules),
    extensions: extensions
      .filter((e) => e.required || usedSchemas.has(e.schema.id))
      .map((e) => ({ schema: publishedSchema(e.schema, rules), required: e.required })),
    directory: {
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
      sort,
      computed,
      ...(dir.emptyGroupPlaceholder ? { emptyGroupPlaceholder: dir.emptyGroupPlaceholder } : {}),
      deleteMode: dir.deleteMode ?? 'delete',
      locations: directoryLocations,
      // The id attribute and attributes read through a binary transform (guid) come back as bytes.
      binaryAttributes: [
        ...new Set([
          ...(BINARY_ID_ATTRIBUTES.has(dir.id) ? [dir.id] : []),
          ...rules.filter((r) => r.transform.binary).map((r) => r.ldap),
        ]),
      ],
    },
    rules,
    patchResponse: spec.patchResponse ?? 200,
  };
  return { resourceType, problems };
}

function compileRule(
  key: string,
  spec: AttributeRuleSpec,
  location: SourceLocation,
  coreSchema: SchemaDefinition,
  extensions: { schema: SchemaDefinition }[],
  fail: (message: string, hint?: string) => void,
): CompiledRule | undefined {
  let path: PatchPath;
  try {
    path = parsePatchPath(key);
  } catch (error) {
    fail(
      `is not a SCIM attribute path: ${(error as Error).message}`,
      'e.g. name.givenName or emails[type eq "work"].value',
    );
    return undefined;
  }
  const schemaId = path.path.schema ?? coreSchema.id;
  const schema =
    schemaId.toLowerCase() === coreSchema.id.toLowerCase()
      ? coreSchema
      : extensions.find((e) => e.schema.id.toLowerCase() === schemaId.toLowerCase())?.schema;
  if (!schema) {
    fail(
      `schema "${schemaId}" is neither the core schema nor a declared extension`,
      'list it under extensions:',
    );
    return undefined;
  }
  const isCore = schema === coreSchema;
  const attributeDefinition =
    isCore && path.path.attribute.toLowerCase() === 'externalid'
      ? EXTERNAL_ID_DEFINITION
      : schema.attributes.find((a) => a.name.toLowerCase() === path.path.attribute.toLowerCase());
  if (!attributeDefinition) {
    fail(
      `"${path.path.attribute}" is not an attribute of ${schema.id}`,
      closest(path.path.attribute, schema.attributes),
    );
    return undefined;
  }
  const subName = path.subAttribute ?? path.path.subAttribute;
  let leafDefinition = attributeDefinition;
  if (subName) {
    const sub = attributeDefinition.subAttributes?.find(
      (s) => s.name.toLowerCase() === subName.toLowerCase(),
    );
    if (!sub) {
      fail(
        `"${subName}" is not a sub-attribute of ${attributeDefinition.name}`,
        closest(subName, attributeDefinition.subAttributes ?? []),
      );
      return undefined;
    }
    leafDefinition = sub;
  } else if (attributeDefinition.type === 'complex') {
    fail(
      `${attributeDefinition.name} is complex: map its sub-attributes`,
      `e.g. ${attributeDefinition.name}.${attributeDefinition.subAttributes?.[0]?.name ?? 'value'}`,
    );
    return undefined;
  }
  let typeValue: string | undefined;
  if (path.valueFilter) {
    typeValue = typeSelector(path.valueFilter);
    if (typeValue === undefined || !attributeDefinition.multiValued) {
      fail(
        'only a selection by type of a multi-valued attribute is supported in a mapping key',
        'e.g. emails[type eq "work"].value',
      );
      return undefined;
    }
  }
  const transformName = spec.transform ?? DEFAULT_TRANSFORM_BY_TYPE[leafDefinition.type] ?? 'string';
  if (spec.separator !== undefined && transformName !== 'split') {
    fail('separator is only used by transform: split', 'add transform: split, or remove separator');
    return undefined;
  }
  const transform: Transform | undefined =
    transformName === 'split' ? splitTransform(spec.separator ?? ',') : TRANSFORMS.get(transformName);
  if (!transform) {
    fail(`unknown transform "${transformName}"`, `known: ${[...TRANSFORMS.keys(), 'split'].join(', ')}`);
    return undefined;
  }
  // split keeps a whole SCIM list in one LDAP value: the rule must map a list, not one element.
  const mapsList = typeValue === undefined && (leafDefinition.multiValued || attributeDefinition.multiValued);
  if (transform.joinValues && !mapsList) {
    fail(
      `transform "split" joins the values of a multi-valued attribute, but ${key} holds one value`,
      'use split on a multi-valued string attribute (e.g. a custom extension attribute with multiValued: true)',
    );
    return undefined;
  }
  const expectedScimType =
    leafDefinition.type === 'reference' || leafDefinition.type === 'binary' ? 'string' : leafDefinition.type;
  if (
    transform.scimType !== expectedScimType &&
    !(transform.scimType === 'string' && expectedScimType === 'string')
  ) {
    fail(
      `transform "${transform.name}" produces ${transform.scimType} values but ${key} is of type ${leafDefinition.type}`,
      `use a transform for ${leafDefinition.type} values`,
    );
    return undefined;
  }
  // Binary transforms (guid) read bytes; writes carry text values, so such rules must be read-only.
  if (transform.binary && !(spec.readOnly ?? attributeDefinition.mutability === 'readOnly')) {
    fail(
      `transform "${transform.name}" reads a binary attribute and cannot write it`,
      'add readOnly: true (objectGUID-like values are set by the directory)',
    );
    return undefined;
  }
  const overrides: Partial<AttributeDefinition> = {};
  if (spec.caseExact !== undefined) overrides.caseExact = spec.caseExact;
  if (spec.required !== undefined) overrides.required = spec.required;
  if (spec.uniqueness !== undefined) overrides.uniqueness = spec.uniqueness;
  if (spec.mutability !== undefined) overrides.mutability = spec.mutability;
  if (spec.returned !== undefined) overrides.returned = spec.returned;
  if (spec.readOnly) overrides.mutability = 'readOnly';
  const references = spec.references === undefined ? undefined : [spec.references].flat();
  return {
    key,
    location,
    schema: schema.id,
    isCore,
    attribute: attributeDefinition.name,
    ...(subName ? { subAttribute: leafDefinition.name } : {}),
    ...(typeValue !== undefined ? { typeValue } : {}),
    attributeDefinition: subName ? attributeDefinition : { ...attributeDefinition, ...overrides },
    leafDefinition: { ...leafDefinition, ...overrides },
    ldap: spec.ldap,
    ldapKey: spec.ldap.toLowerCase(),
    transform,
    ...(references ? { references } : {}),
    ...(spec.reverse ? { reverse: spec.reverse } : {}),
    ignoreUnresolved: spec.unresolved === 'ignore',
    readOnly: spec.readOnly ?? attributeDefinition.mutability === 'readOnly',
    primary: spec.primary ?? false,
    ...(spec.default !== undefined ? { defaultValue: spec.default } : {}),
    ...(spec.orderingRule ? { orderingRule: spec.orderingRule } : {}),
  };
}

/** `type eq "work"` -> "work"; anything else is not a selection the mapping language offers. */
function typeSelector(filter: FilterNode): string | undefined {
  if (filter.type !== 'compare' || filter.operator !== 'eq') return undefined;
  if (filter.path.attribute.toLowerCase() !== 'type' || filter.path.subAttribute) return undefined;
  return typeof filter.value === 'string' ? filter.value : undefined;
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

/** A mapping's plausible typo of a SCIM attribute name: up to three edits away. */
function closest(name: string, candidates: { name: string }[]): string | undefined {
  const best = didYouMean(
    name,
    candidates.map((c) => c.name),
    3,
  );
  return best === undefined ? undefined : `did you mean "${best}"?`;
}
