/**
 * Loads the configuration: defaults -> YAML file -> environment variables, validated by the one
 * schema in `schema.ts`. Every problem is collected and reported together in a `ConfigError`, each
 * naming the setting, where its value came from and the expected form; secret values never appear.
 */
import { createHash } from 'node:crypto';
import { accessSync, constants, existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import { didYouMean } from '../lib/did-you-mean.ts';
import { ConfigError, type ConfigProblem, describeSource } from './errors.ts';
import { redactUrlCredentials } from './redact.ts';
import { type BridgeConfig, configSchema, formats } from './schema.ts';
import {
  CONFIG_FILE_ENV,
  describeExpected,
  displayPath,
  FILE_SUFFIX,
  isSecretPath,
  knownEnvVars,
  pathSettings,
  REDACTED,
  rootSchema,
  type SchemaNode,
  type Setting,
  schemaAt,
  settings,
} from './settings.ts';

export interface LoadConfigOptions {
  /** YAML file; default: env SCIM_BRIDGE_CONFIG, else config/bridge.yaml when it exists. Relative to cwd. */
  file?: string;
  /** Default: process.env. */
  env?: Record<string, string | undefined>;
  /** Base of relative paths (config file, *_FILE secrets, mappings.dir, ldap.tls.caFile). Default: process.cwd(). */
  cwd?: string;
}

/** The implicit configuration file, relative to cwd. */
export const DEFAULT_CONFIG_FILE = 'config/bridge.yaml';
/** Name under which auth.token joins auth.tokens. */
export const PLAIN_TOKEN_NAME = 'auth.token';

type Segment = string | number;
type Obj = Record<string, unknown>;

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

function isObj(value: unknown): value is Obj {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function getAt(data: unknown, segments: readonly Segment[]): unknown {
  let node = data;
  for (const s of segments) {
    if (isObj(node)) node = node[String(s)];
    else if (Array.isArray(node) && typeof s === 'number') node = node[s];
    else return undefined;
  }
  return node;
}

/** Sets a value, creating missing sections; returns false when a section on the way is not a mapping. */
function setAt(data: Obj, segments: readonly string[], value: unknown): boolean {
  let node = data;
  for (const s of segments.slice(0, -1)) {
    const next = node[s];
    if (next === undefined) node[s] = {};
    else if (!isObj(next)) return false;
    node = node[s] as Obj;
  }
  node[segments[segments.length - 1]!] = value;
  return true;
}

/** A setting's plausible typo: two edits, more for long names (one per four letters). */
function closestSetting(word: string, candidates: Iterable<string>): string | undefined {
  return didYouMean(word, candidates, Math.max(2, Math.floor(word.length / 4)));
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') return 'a string';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'number') return Number.isInteger(value) ? 'an integer' : 'a number';
  return `a ${typeof value}`;
}

/** A value as shown in messages: quoted, truncated, credentials masked; secrets and structures not shown. */
function show(value: unknown, segments: readonly Segment[]): string {
  if (isSecretPath(segments)) return REDACTED;
  if (typeof value === 'string') {
    const masked = redactUrlCredentials(value);
    const cut = masked.length > 80 ? `${masked.slice(0, 77)}...` : masked;
    return `'${JSON.stringify(cut).slice(1, -1).replace(/'/g, "\\'")}'`;
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return kindOf(value);
}

/** Reads a secret/value file: the content with one trailing newline removed. */
function readValueFile(file: string, cwd: string): { value: string } | { error: string } {
  try {
    return { value: readFileSync(path.resolve(cwd, file), 'utf8').replace(/\r?\n$/, '') };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    return { error: `cannot read file '${file}' (${code})` };
  }
}

/** Env strings to the setting's type. Unparsable numbers/booleans stay strings so validation reports them. */
function coerceEnv(raw: string, node: SchemaNode): { value: unknown } | { error: string } {
  switch (node.type) {
    case 'integer':
    case 'number':
      return { value: /^[+-]?\d+(\.\d+)?$/.test(raw.trim()) ? Number(raw.trim()) : raw };
    case 'boolean': {
      const v = raw.trim().toLowerCase();
      return { value: v === 'true' || v === '1' ? true : v === 'false' || v === '0' ? false : raw };
    }
    case 'array':
    case 'object':
      try {
        return { value: JSON.parse(raw) };
      } catch {
        return { error: `is not valid JSON; expected ${describeExpected(node)} written as JSON` };
      }
    default:
      return { value: raw };
  }
}

interface FileLayer {
  display: string;
  doc: Document;
  lines: LineCounter;
}

class Loader {
  readonly env: Record<string, string | undefined>;
  readonly cwd: string;
  readonly problems: ConfigProblem[] = [];
  /** Dotted setting key -> variable that supplied it. */
  readonly envOrigins = new Map<string, string>();
  /** Settings (dotted, indices as numbers) already reported, so derived checks stay quiet about them. */
  readonly failed = new Set<string>();
  file: FileLayer | undefined;

  constructor(options: LoadConfigOptions) {
    this.env = options.env ?? process.env;
    this.cwd = path.resolve(options.cwd ?? process.cwd());
  }

  problem(segments: readonly Segment[] | undefined, text: string, source?: string): void {
    if (segments !== undefined) this.failed.add(segments.join('.'));
    this.problems.push({
      setting: segments === undefined ? undefined : displayPath(segments),
      source: source ?? (segments === undefined ? 'configuration' : this.sourceOf(segments)),
      text,
    });
  }

  envValue(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v === '' ? undefined : v;
  }

  private position(offset: number): string {
    const { line, col } = this.file!.lines.linePos(offset);
    return `${this.file!.display}:${line}:${col}`;
  }

  /** Where the value at `segments` came from: the env var, the YAML position, or 'default'. */
  sourceOf(segments: readonly Segment[], keyOf?: string): string {
    for (let i = segments.length; i > 0; i--) {
      const origin = this.envOrigins.get(segments.slice(0, i).join('.'));
      if (origin) return origin;
    }
    if (this.file) {
      if (keyOf !== undefined) {
        const parent = segments.length === 0 ? this.file.doc.contents : this.file.doc.getIn(segments, true);
        if (isMap(parent)) {
          const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === keyOf);
          if (pair && isNode(pair.key) && pair.key.range) return this.position(pair.key.range[0]);
        }
      }
      // Only the exact node: a value absent from the file at this path is a default (or came from env).
      const node = segments.length === 0 ? this.file.doc.contents : this.file.doc.getIn(segments, true);
      if (isNode(node) && node.range) return this.position(node.range[0]);
    }
    return 'default';
  }

  checkEnvNames(): void {
    const known = knownEnvVars();
    for (const name of Object.keys(this.env).sort()) {
      if (!name.startsWith('SCIM_BRIDGE_') || known.has(name) || this.env[name] === undefined) continue;
      const guess = closestSetting(name, known.keys());
      this.problem(
        undefined,
        `unknown environment variable${guess ? `; did you mean ${guess}?` : ''} (every SCIM_BRIDGE_* variable must name a setting, see docs/configuration.md)`,
        name,
      );
    }
  }

  readFileLayer(explicit: string | undefined): Obj {
    let file = explicit;
    let origin = 'the file option';
    if (file === undefined && this.envValue(CONFIG_FILE_ENV) !== undefined) {
      file = this.envValue(CONFIG_FILE_ENV);
      origin = CONFIG_FILE_ENV;
    }
    if (file === undefined) {
      if (!existsSync(path.resolve(this.cwd, DEFAULT_CONFIG_FILE))) return {};
      file = DEFAULT_CONFIG_FILE;
    }
    const absolute = path.resolve(this.cwd, file);
    const relative = path.relative(this.cwd, absolute);
    const display = relative.startsWith('..') || path.isAbsolute(relative) ? absolute : relative;
    let text: string;
    try {
      text = readFileSync(absolute, 'utf8');
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      this.problem(undefined, `cannot read the configuration file (${code})`, `${display} (from ${origin})`);
      return {};
    }
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
    this.file = { display, doc, lines };
    if (doc.errors.length > 0) {
      for (const e of doc.errors) {
        // The yaml package's own message can quote source lines (which may hold secrets): position + message only.
        this.problem(undefined, `YAML syntax error: ${e.message.split('\n')[0]}`, this.position(e.pos[0]));
      }
      this.file = undefined;
      return {};
    }
    let data: unknown;
    try {
      data = doc.toJS({ maxAliasCount: 100 });
    } catch (error) {
      this.problem(undefined, `cannot be read as data: ${(error as Error).message.split('\n')[0]}`, display);
      return {};
    }
    if (data === null || data === undefined) return {};
    if (!isObj(data)) {
      this.problem(
        undefined,
        `the file holds ${kindOf(data)}; expected a mapping of sections (${Object.keys(configSchema.properties).join(', ')})`,
        this.sourceOf([]),
      );
      return {};
    }
    dropNullSections(data, []);
    this.resolveFileSecrets(data);
    return data;
  }

  /** `{ file: /path }` in place of a secret: the file's content. */
  private resolveFileSecrets(data: Obj): void {
    for (const s of settings.filter((x) => x.secret)) {
      const value = getAt(data, s.path);
      if (!isObj(value)) continue;
      const keys = Object.keys(value);
      if (keys.length !== 1 || keys[0] !== 'file' || typeof value.file !== 'string' || value.file === '') {
        this.problem(s.path, `got ${kindOf(value)}; expected a string or { file: /path/to/secret }`);
        setAt(data, [...s.path], undefined);
        continue;
      }
      const read = readValueFile(value.file, this.cwd);
      if ('error' in read) {
        this.problem(s.path, read.error);
        setAt(data, [...s.path], undefined);
      } else {
        setAt(data, [...s.path], read.value);
      }
    }
  }

  /** The raw string and its variable for one setting, honouring precedence (canonical, then aliases). */
  private envRaw(s: Setting): { raw: string; from: string } | undefined {
    for (const name of [s.env, ...s.aliases]) {
      const direct = this.envValue(name);
      const fileVar = name.startsWith('SCIM_BRIDGE_') ? name + FILE_SUFFIX : undefined;
      const viaFile = fileVar === undefined ? undefined : this.envValue(fileVar);
      if (direct !== undefined && viaFile !== undefined) {
        this.problem(s.path, `both ${name} and ${fileVar} are set; expected only one of them`, name);
        return undefined;
      }
      if (direct !== undefined) return { raw: direct, from: name };
      if (viaFile !== undefined && fileVar !== undefined) {
        const read = readValueFile(viaFile, this.cwd);
        if ('error' in read) {
          this.problem(s.path, read.error, fileVar);
          return undefined;
        }
        return { raw: read.value, from: fileVar };
      }
    }
    return undefined;
  }

  applyEnv(data: Obj): void {
    for (const s of settings) {
      const found = this.envRaw(s);
      if (!found) continue;
      const coerced = coerceEnv(found.raw, s.schema);
      if ('error' in coerced) {
        this.problem(s.path, coerced.error, found.from);
        continue;
      }
      if (setAt(data, s.path, coerced.value)) this.envOrigins.set(s.key, found.from);
      // else: a section on the way has the wrong type in the file; validation reports that.
    }
  }

  reportSchemaErrors(errors: readonly ErrorObject[]): void {
    for (const e of errors) {
      const segments: Segment[] = e.instancePath
        .split('/')
        .slice(1)
        .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
        .map((s) => (/^\d+$/.test(s) ? Number(s) : s));
      const node = (e.parentSchema ?? {}) as SchemaNode;
      const value: unknown = e.data;
      const expected = describeExpected(node);
      switch (e.keyword) {
        case 'additionalProperties': {
          const extra = String((e.params as { additionalProperty: string }).additionalProperty);
          const known = Object.keys(node.properties ?? {});
          const guess = closestSetting(extra, known);
          // The value is never shown: a misspelt key may well hold a secret.
          this.problems.push({
            setting: displayPath([...segments, extra]),
            source: this.sourceOf(segments, extra),
            text: `unknown setting${guess ? `; did you mean ${displayPath([...segments, guess])}?` : ''} (known here: ${known.join(', ')})`,
          });
          break;
        }
        case 'required': {
          const missing = String((e.params as { missingProperty: string }).missingProperty);
          const child = node.properties?.[missing] ?? {};
          this.problems.push({
            setting: displayPath([...segments, missing]),
            source: this.sourceOf(segments),
            text: `is missing; expected ${describeExpected(child)}`,
          });
          break;
        }
        case 'type': {
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
          this.problem(segments, `${shown}; expected ${expected}${hint}`);
          break;
        }
        case 'format': {
          const spec = formats[String((e.params as { format: string }).format)];
          this.problem(
            segments,
            `${show(value, segments)} is not ${spec?.noun ?? 'valid'}; expected ${expected}`,
          );
          break;
        }
        case 'enum':
          this.problem(segments, `${show(value, segments)} is not a valid value; expected ${expected}`);
          break;
        case 'minimum':
        case 'exclusiveMinimum':
          this.problem(segments, `${show(value, segments)} is too small; expected ${expected}`);
          break;
        case 'maximum':
        case 'exclusiveMaximum':
          this.problem(segments, `${show(value, segments)} is too large; expected ${expected}`);
          break;
        case 'minLength':
          this.problem(
            segments,
            `${value === '' ? 'is empty' : `${show(value, segments)} is too short`}; expected ${expected}`,
          );
          break;
        case 'pattern':
          this.problem(
            segments,
            `${show(value, segments)} does not have the expected form; expected ${expected}`,
          );
          break;
        default:
          this.problem(
            segments,
            `${show(value, segments)} ${e.message ?? 'is invalid'}; expected ${expected}`,
          );
      }
    }
  }
}

function kindOfType(type: string | undefined): string {
  switch (type) {
    case 'integer':
      return 'an integer';
    case 'number':
      return 'a number';
    case 'string':
      return 'a string';
    case 'boolean':
      return 'a boolean';
    default:
      return `a ${type ?? 'value'}`;
  }
}

/** `ldap:` with every child commented out parses as null: treat such sections as absent. */
function dropNullSections(data: Obj, at: readonly string[]): void {
  for (const [key, value] of Object.entries(data)) {
    const node = schemaAt([...at, key]);
    if (node?.type !== 'object') continue;
    if (value === null) delete data[key];
    else if (isObj(value)) dropNullSections(value, [...at, key]);
  }
}

/** Cross-setting rules that a JSON Schema cannot express (or not readably). */
function semanticChecks(loader: Loader, data: Obj, invalid: ReadonlySet<string>): void {
  const ok = (...keys: string[]): boolean => keys.every((k) => !invalid.has(k));
  const at = (key: string): unknown => getAt(data, key.split('.'));
  const seg = (key: string): string[] => key.split('.');
  const origin = (segments: string[]): string => `, ${describeSource(loader.sourceOf(segments))}`;

  const url = at('ldap.url');
  if (
    ok('ldap.url', 'ldap.startTls') &&
    typeof url === 'string' &&
    url.startsWith('ldaps:') &&
    at('ldap.startTls') === true
  ) {
    loader.problem(
      seg('ldap.startTls'),
      `true cannot be combined with the ldaps:// URL ${show(url, seg('ldap.url'))} (TLS is already on); expected false with ldaps://, or an ldap:// URL`,
    );
  }
  if (
    ok('ldap.url', 'ldap.startTls') &&
    typeof url === 'string' &&
    url.startsWith('ldap:') &&
    at('ldap.startTls') !== true
  ) {
    for (const key of ['ldap.tls.caFile', 'ldap.tls.serverName']) {
      if (at(key) !== undefined && ok(key)) {
        loader.problem(
          seg(key),
          `has no effect: ${show(url, seg('ldap.url'))} is neither ldaps:// nor used with ldap.startTls; expected an ldaps:// URL or ldap.startTls: true`,
        );
      }
    }
  }
  const caFile = at('ldap.tls.caFile');
  if (ok('ldap.tls.caFile') && typeof caFile === 'string') {
    try {
      accessSync(path.resolve(loader.cwd, caFile), constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      loader.problem(
        seg('ldap.tls.caFile'),
        `cannot read '${caFile}' (${code}); expected a readable PEM file`,
      );
    }
  }
  const hasDn = at('ldap.bindDn') !== undefined;
  const hasPassword = at('ldap.bindPassword') !== undefined;
  if (hasPassword && !hasDn && ok('ldap.bindDn')) {
    loader.problem(seg('ldap.bindPassword'), 'is set but ldap.bindDn is not; expected both or neither');
  }
  if (hasDn && !hasPassword && ok('ldap.bindDn', 'ldap.bindPassword')) {
    // RFC 4513 §5.1.2: a DN with an empty password is an "unauthenticated bind" that many servers accept
    // as anonymous, which would hide a missing credential.
    loader.problem(
      seg('ldap.bindDn'),
      'is set but ldap.bindPassword is not (an empty password would be an unauthenticated bind, RFC 4513 §5.1.2); expected both or neither',
    );
  }

  const redisUrl = at('redis.url');
  if (ok('redis.url') && typeof redisUrl === 'string' && at('redis.password') !== undefined) {
    const parsed = URL.canParse(redisUrl) ? new URL(redisUrl) : undefined;
    if (parsed && parsed.password !== '') {
      loader.problem(
        seg('redis.password'),
        'is set and redis.url also carries a password; expected the password in one place only',
      );
    }
  }

  const def = at('limits.defaultPageSize');
  const max = at('limits.maxPageSize');
  if (
    ok('limits.defaultPageSize', 'limits.maxPageSize') &&
    typeof def === 'number' &&
    typeof max === 'number' &&
    max < def
  ) {
    loader.problem(
      seg('limits.maxPageSize'),
      `${max} is less than limits.defaultPageSize (${def}${origin(seg('limits.defaultPageSize'))}); expected at least ${def}`,
    );
  }
  const bulk = at('limits.bulkMaxPayloadBytes');
  const body = at('server.bodyLimitBytes');
  if (
    ok('limits.bulkMaxPayloadBytes', 'server.bodyLimitBytes') &&
    typeof bulk === 'number' &&
    typeof body === 'number' &&
    bulk > body
  ) {
    loader.problem(
      seg('limits.bulkMaxPayloadBytes'),
      `${bulk} exceeds server.bodyLimitBytes (${body}${origin(seg('server.bodyLimitBytes'))}), so /Bulk would advertise a size it refuses; expected at most ${body}`,
    );
  }
  const lock = at('idempotency.lockTtlSeconds');
  const timeout = at('server.requestTimeoutMs');
  if (
    ok('idempotency.lockTtlSeconds', 'server.requestTimeoutMs') &&
    typeof lock === 'number' &&
    typeof timeout === 'number' &&
    lock * 1000 < timeout
  ) {
    loader.problem(
      seg('idempotency.lockTtlSeconds'),
      `${lock} s is shorter than server.requestTimeoutMs (${timeout} ms${origin(seg('server.requestTimeoutMs'))}), so a lock could expire while its request runs; expected at least ${Math.ceil(timeout / 1000)}`,
    );
  }
  const ttl = at('idempotency.ttlSeconds');
  if (
    ok('idempotency.ttlSeconds', 'idempotency.lockTtlSeconds') &&
    typeof ttl === 'number' &&
    typeof lock === 'number' &&
    ttl < lock
  ) {
    loader.problem(
      seg('idempotency.ttlSeconds'),
      `${ttl} is less than idempotency.lockTtlSeconds (${lock}); expected at least ${lock}`,
    );
  }

  const tokens = at('auth.tokens');
  if (ok('auth.tokens') && Array.isArray(tokens)) {
    const names = new Map<string, number>();
    const hashes = new Map<string, number>();
    tokens.forEach((t: unknown, i) => {
      if (!isObj(t)) return;
      if (typeof t.name === 'string') {
        const first = names.get(t.name);
        if (first !== undefined) {
          loader.problem(
            ['auth', 'tokens', i, 'name'],
            `${show(t.name, [])} is already used by auth.tokens[${first}]; expected unique names`,
          );
        } else names.set(t.name, i);
      }
      if (typeof t.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(t.sha256)) {
        const first = hashes.get(t.sha256.toLowerCase());
        if (first !== undefined) {
          loader.problem(
            ['auth', 'tokens', i, 'sha256'],
            `is the same token as auth.tokens[${first}]; expected each token once`,
          );
        } else hashes.set(t.sha256.toLowerCase(), i);
      }
    });
  }
}

/** Paths (dotted, array indices as numbers) that failed schema validation, and their ancestors/descendants. */
function invalidKeys(errors: readonly ErrorObject[]): Set<string> {
  const out = new Set<string>();
  for (const e of errors) {
    const segments = e.instancePath.split('/').slice(1);
    for (let i = 1; i <= segments.length; i++) out.add(segments.slice(0, i).join('.'));
  }
  return out;
}

function normalise(data: Obj, cwd: string): void {
  const auth = data.auth as {
    tokens: { name: string; sha256: string; patchResponse?: 200 | 204 }[];
    token?: string;
  };
  auth.tokens = auth.tokens.map((t) => ({ ...t, sha256: t.sha256.toLowerCase() }));
  if (auth.token !== undefined) {
    const sha256 = createHash('sha256').update(auth.token, 'utf8').digest('hex');
    if (!auth.tokens.some((t) => t.sha256 === sha256)) auth.tokens.push({ name: PLAIN_TOKEN_NAME, sha256 });
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
  loader.reportSchemaErrors(errors);
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
