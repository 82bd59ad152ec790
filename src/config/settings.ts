/**
 * The settings derived from the schema: one entry per leaf, with its environment variable name.
 * Nothing here is listed by hand; adding a property to `schema.ts` adds its variable, its
 * reference row and its validation.
 */
import { formats } from './formats.ts';
import { configSchema } from './schema.ts';

/** The subset of JSON Schema used by `configSchema`, plus its `x-` annotations. */
export interface SchemaNode {
  readonly type?: string;
  readonly description?: string;
  readonly default?: unknown;
  readonly examples?: readonly unknown[];
  readonly properties?: { readonly [key: string]: SchemaNode };
  readonly required?: readonly string[];
  readonly items?: SchemaNode;
  readonly enum?: readonly unknown[];
  readonly format?: string;
  readonly pattern?: string;
  readonly minimum?: number;
  readonly maximum?: number;
  readonly minLength?: number;
  readonly 'x-secret'?: boolean;
  readonly 'x-path'?: boolean;
  readonly 'x-env-aliases'?: readonly string[];
  readonly 'x-expected'?: string;
}

export const rootSchema: SchemaNode = configSchema;

export const ENV_PREFIX = 'SCIM_BRIDGE_';
/** Names the configuration file; not a setting. */
export const CONFIG_FILE_ENV = 'SCIM_BRIDGE_CONFIG';
/** Suffix of the variant that reads the value from a file. */
export const FILE_SUFFIX = '_FILE';
/** Shown instead of secret values. */
export const REDACTED = '<redacted>';

/** One leaf setting: a scalar, or an array (given as JSON in the environment). */
export interface Setting {
  /** Property names from the root, e.g. ['ldap', 'bindDn']. */
  readonly path: readonly string[];
  /** Dotted path, e.g. 'ldap.bindDn'. */
  readonly key: string;
  /** Derived variable, e.g. 'SCIM_BRIDGE_LDAP_BIND_DN'. */
  readonly env: string;
  /** Further variables, lower precedence than `env`, in order (e.g. PORT, SCIM_BRIDGE_TOKEN). */
  readonly aliases: readonly string[];
  readonly schema: SchemaNode;
  readonly secret: boolean;
}

/** camelCase -> SCREAMING_SNAKE: bodyLimitBytes -> BODY_LIMIT_BYTES, bindDn -> BIND_DN. */
export function screamingSnake(name: string): string {
  return name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase();
}

export function envNameFor(path: readonly string[]): string {
  return ENV_PREFIX + path.map(screamingSnake).join('_');
}

function isSection(node: SchemaNode): boolean {
  return node.type === 'object' && node.properties !== undefined;
}

function walk(node: SchemaNode, path: readonly string[], out: Setting[]): void {
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    const childPath = [...path, name];
    if (isSection(child)) {
      walk(child, childPath, out);
    } else {
      out.push({
        path: childPath,
        key: childPath.join('.'),
        env: envNameFor(childPath),
        aliases: child['x-env-aliases'] ?? [],
        schema: child,
        secret: child['x-secret'] === true,
      });
    }
  }
}

function collectSettings(): readonly Setting[] {
  const out: Setting[] = [];
  walk(rootSchema, [], out);
  return out;
}

/** Every leaf setting, in schema order. */
export const settings: readonly Setting[] = collectSettings();

/** Dotted paths of the secret settings. */
export const secretPaths: readonly string[] = settings.filter((s) => s.secret).map((s) => s.key);

/** Dotted paths of settings holding filesystem paths (resolved against the working directory). */
export const pathSettings: readonly string[] = settings
  .filter((s) => s.schema['x-path'] === true)
  .map((s) => s.key);

/** Every variable the loader reads, with the setting it feeds (aliases and `_FILE` variants included). */
export function knownEnvVars(): ReadonlyMap<string, Setting | undefined> {
  const known = new Map<string, Setting | undefined>([[CONFIG_FILE_ENV, undefined]]);
  for (const s of settings) {
    for (const name of [s.env, ...s.aliases]) {
      known.set(name, s);
      if (name.startsWith(ENV_PREFIX)) known.set(name + FILE_SUFFIX, s);
    }
  }
  return known;
}

/** The schema node at a data path (array indices step into `items`), if any. */
export function schemaAt(path: readonly (string | number)[]): SchemaNode | undefined {
  let node: SchemaNode | undefined = rootSchema;
  for (const segment of path) {
    if (node === undefined) return undefined;
    if (node.type === 'array') node = node.items;
    else node = node.properties?.[String(segment)];
  }
  return node;
}

/** 'auth.tokens[0].sha256' */
export function displayPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number' || /^\d+$/.test(segment)) out += `[${segment}]`;
    else out += out === '' ? segment : `.${segment}`;
  }
  return out;
}

/** True when the path is a secret setting or lies inside one. */
export function isSecretPath(path: readonly (string | number)[]): boolean {
  for (let i = 1; i <= path.length; i++) {
    if (schemaAt(path.slice(0, i))?.['x-secret'] === true) return true;
  }
  return false;
}

function range(node: SchemaNode): string {
  const { minimum: min, maximum: max } = node;
  if (min !== undefined && max !== undefined) return ` from ${min} to ${max}`;
  if (min !== undefined) return ` of at least ${min}`;
  if (max !== undefined) return ` of at most ${max}`;
  return '';
}

/** Short type for the reference table, e.g. 'integer (0–65535)', 'string (LDAP URL)'. */
export function describeType(node: SchemaNode): string {
  if (node.enum) return node.enum.map((v) => JSON.stringify(v)).join(' | ');
  switch (node.type) {
    case 'integer':
    case 'number':
      return node.minimum !== undefined && node.maximum !== undefined
        ? `${node.type} (${node.minimum}–${node.maximum})`
        : (node.type ?? 'value');
    case 'string':
      if (node.format && formats[node.format])
        return `string (${formats[node.format]!.noun.replace(/^an? /, '')})`;
      if (node['x-path']) return 'string (path)';
      return 'string';
    case 'array':
      return `array of ${node.items?.type === 'object' ? `{ ${Object.keys(node.items.properties ?? {}).join(', ')} }` : (node.items?.type ?? 'value')}`;
    default:
      return node.type ?? 'value';
  }
}

/** The expected form of a value, for error messages: 'an integer from 0 to 65535'. */
export function describeExpected(node: SchemaNode): string {
  if (node['x-expected']) return node['x-expected'];
  if (node.format && formats[node.format]) return formats[node.format]!.expected;
  if (node.enum) return `one of ${node.enum.map((v) => String(v)).join(', ')}`;
  switch (node.type) {
    case 'integer':
      return `an integer${range(node)}`;
    case 'number':
      return `a number${range(node)}`;
    case 'boolean':
      return 'true or false';
    case 'string':
      if (node.minLength !== undefined && node.minLength > 1)
        return `a string of at least ${node.minLength} characters`;
      return node.minLength === 1 ? 'a non-empty string' : 'a string';
    case 'array':
      return node.items?.type === 'object'
        ? `a list of { ${Object.keys(node.items.properties ?? {}).join(', ')} }`
        : 'a list';
    case 'object':
      return `a mapping with keys ${Object.keys(node.properties ?? {}).join(', ')}`;
    default:
      return 'a value';
  }
}
