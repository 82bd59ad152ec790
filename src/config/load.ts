/**
 * Loads the configuration: defaults -> YAML file -> environment variables (layers.ts), validated by
 * the one schema in `schema.ts` (schema-errors.ts) and by cross-setting rules (checks.ts). Every
 * problem is collected and reported together in a `ConfigError`, each naming the setting, where its
 * value came from and the expected form; secret values never appear.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { Ajv, type ValidateFunction } from 'ajv';
import { semanticChecks } from './checks.ts';
import { ConfigError } from './errors.ts';
import { formats } from './formats.ts';
import { type LoadConfigOptions, Loader } from './layers.ts';
import { type BridgeConfig, configSchema } from './schema.ts';
import { invalidKeys, reportSchemaErrors } from './schema-errors.ts';
import { pathSettings, rootSchema, type SchemaNode } from './settings.ts';
import { getAt, isObj, type Obj, setAt } from './values.ts';

/** Name under which auth.token joins auth.tokens. */
export const PLAIN_TOKEN_NAME = 'auth.token';

let validator: ValidateFunction | undefined;

function getValidator(): ValidateFunction {
  if (validator) return validator;
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    coerceTypes: false,
    strict: true,
    verbose: true,
  });
  for (const keyword of ['x-secret', 'x-path', 'x-env-aliases', 'x-expected']) ajv.addKeyword({ keyword });
  for (const [name, spec] of Object.entries(formats))
    ajv.addFormat(name, { type: 'string', validate: spec.validate });
  validator = ajv.compile(configSchema);
  return validator;
}

function normalise(data: Obj, cwd: string): void {
  const auth = data.auth as {
    tokens: { name: string; sha256: string; scopes: string[]; patchResponse?: 200 | 204 }[];
    token?: string;
  };
  auth.tokens = auth.tokens.map((t) => ({ ...t, sha256: t.sha256.toLowerCase() }));
  if (auth.token !== undefined) {
    const sha256 = createHash('sha256').update(auth.token, 'utf8').digest('hex');
    if (!auth.tokens.some((t) => t.sha256 === sha256))
      auth.tokens.push({ name: PLAIN_TOKEN_NAME, sha256, scopes: ['admin'] });
    delete auth.token;
  }
  for (const key of pathSettings) {
    const value = getAt(data, key.split('.'));
    if (typeof value === 'string') setAt(data, key.split('.'), path.resolve(cwd, value));
  }
  const server = data.server as { publicBaseUrl?: string };
  if (server.publicBaseUrl !== undefined) server.publicBaseUrl = server.publicBaseUrl.replace(/\/+$/, '');
}

/** A copy with keys in schema order (env-supplied keys would otherwise come first), for readable logs. */
function inSchemaOrder(value: unknown, node: SchemaNode | undefined): unknown {
  if (Array.isArray(value)) return value.map((v) => inSchemaOrder(v, node?.items));
  if (!isObj(value) || node?.properties === undefined) return value;
  const out: Obj = {};
  for (const [key, child] of Object.entries(node.properties)) {
    if (value[key] !== undefined) out[key] = inSchemaOrder(value[key], child);
  }
  return out;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/**
 * Builds the configuration from defaults, the YAML file and the environment (later wins).
 * Throws `ConfigError` listing every problem. The result is deeply frozen; `auth.token` has been
 * hashed into `auth.tokens`, relative paths are absolute, token hashes are lower case.
 */
export function loadConfig(options: LoadConfigOptions = {}): BridgeConfig {
  const loader = new Loader(options);
  loader.checkEnvNames();
  const data = loader.readFileLayer(options.file);
  loader.applyEnv(data);

  const validate = getValidator();
  const candidate = structuredClone(data);
  const valid = validate(candidate);
  const errors = valid ? [] : (validate.errors ?? []);
  reportSchemaErrors(loader, errors);
  semanticChecks(loader, candidate, new Set([...invalidKeys(errors), ...loader.failed]));

  if (loader.problems.length > 0) throw new ConfigError(loader.problems);
  normalise(candidate, loader.cwd);
  return deepFreeze(inSchemaOrder(candidate, rootSchema)) as BridgeConfig;
}

/** The configuration with nothing but defaults (no file, no environment), relative paths against `cwd`. */
export function defaultConfig(cwd: string = process.cwd()): BridgeConfig {
  const validate = getValidator();
  const data: Obj = {};
  if (!validate(data)) throw new Error('the configuration schema rejects its own defaults');
  normalise(data, cwd);
  return deepFreeze(inSchemaOrder(data, rootSchema)) as BridgeConfig;
}
