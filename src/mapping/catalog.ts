/** The schemas a mapping file may name without declaring them: RFC 7643's User, Group and Enterprise User. */
import { STANDARD_SCHEMA_DEFINITIONS } from '../scim/schema-defs.ts';
import type { SchemaDefinition } from '../scim/schema-types.ts';

export const STANDARD_SCHEMAS: ReadonlyMap<string, SchemaDefinition> = new Map(
  STANDARD_SCHEMA_DEFINITIONS.map((s) => [s.id, s]),
);
