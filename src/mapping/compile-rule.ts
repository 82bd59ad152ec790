/**
 * One attribute rule of a mapping file (`attributes:` key -> CompiledRule): the key must name an
 * attribute of the core schema or a declared extension, its transform must fit the attribute's
 * type, and its overrides are folded into the published attribute definition.
 */
import { didYouMean } from '../lib/did-you-mean.ts';
import { parsePatchPath } from '../scim/filter.ts';
import type { FilterNode, PatchPath } from '../scim/filter-ast.ts';
import type { AttributeDefinition, SchemaDefinition } from '../scim/schema-types.ts';
import type { CompiledRule, SourceLocation } from './compiled.ts';
import type { AttributeRuleSpec } from './model.ts';
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

/** Reports a problem with the rule being compiled. */
type Fail = (message: string, hint?: string) => void;

/** The SCIM attribute a mapping key names, resolved against the schemas. */
interface ResolvedTarget {
  schema: SchemaDefinition;
  isCore: boolean;
  attributeDefinition: AttributeDefinition;
  /** The sub-attribute's definition, or the attribute's own when the key names no sub-attribute. */
  leafDefinition: AttributeDefinition;
  subName?: string;
  typeValue?: string;
}

export function compileRule(
  key: string,
  spec: AttributeRuleSpec,
  location: SourceLocation,
  coreSchema: SchemaDefinition,
  extensions: { schema: SchemaDefinition }[],
  fail: Fail,
): CompiledRule | undefined {
  const target = resolveTarget(key, coreSchema, extensions, fail);
  if (!target) return undefined;
  const transform = resolveTransform(key, spec, target, fail);
  if (!transform) return undefined;
  const { schema, isCore, attributeDefinition, leafDefinition, subName, typeValue } = target;
  const overrides = definitionOverrides(spec);
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

/** The key as a SCIM path (RFC 7644 §3.5.2 attribute path), resolved to its schema and definitions. */
function resolveTarget(
  key: string,
  coreSchema: SchemaDefinition,
  extensions: { schema: SchemaDefinition }[],
  fail: Fail,
): ResolvedTarget | undefined {
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
  const leaf = resolveLeaf(path, attributeDefinition, fail);
  if (!leaf) return undefined;
  return { schema, isCore, attributeDefinition, ...leaf };
}

/** The sub-attribute and the `[type eq "…"]` selection of a key, when it has them. */
function resolveLeaf(
  path: PatchPath,
  attributeDefinition: AttributeDefinition,
  fail: Fail,
): Pick<ResolvedTarget, 'leafDefinition' | 'subName' | 'typeValue'> | undefined {
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
  return {
    leafDefinition,
    ...(subName ? { subName } : {}),
    ...(typeValue !== undefined ? { typeValue } : {}),
  };
}

/** The rule's transform (named, or the default for the attribute's type), checked against the attribute. */
function resolveTransform(
  key: string,
  spec: AttributeRuleSpec,
  { attributeDefinition, leafDefinition, typeValue }: ResolvedTarget,
  fail: Fail,
): Transform | undefined {
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
  return transform;
}

/** What a rule overrides in the schema's definition of its attribute (RFC 7643 §2.2 characteristics). */
function definitionOverrides(spec: AttributeRuleSpec): Partial<AttributeDefinition> {
  const overrides: Partial<AttributeDefinition> = {};
  if (spec.caseExact !== undefined) overrides.caseExact = spec.caseExact;
  if (spec.required !== undefined) overrides.required = spec.required;
  if (spec.uniqueness !== undefined) overrides.uniqueness = spec.uniqueness;
  if (spec.mutability !== undefined) overrides.mutability = spec.mutability;
  if (spec.returned !== undefined) overrides.returned = spec.returned;
  if (spec.readOnly) overrides.mutability = 'readOnly';
  return overrides;
}

/** `type eq "work"` -> "work"; anything else is not a selection the mapping language offers. */
function typeSelector(filter: FilterNode): string | undefined {
  if (filter.type !== 'compare' || filter.operator !== 'eq') return undefined;
  if (filter.path.attribute.toLowerCase() !== 'type' || filter.path.subAttribute) return undefined;
  return typeof filter.value === 'string' ? filter.value : undefined;
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
