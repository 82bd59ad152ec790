/**
 * The layers of the configuration: defaults (from the schema, applied by validation) -> the YAML
 * file -> environment variables, later wins. Remembers where every value came from, so each
 * problem names its source (file:line:column, the variable, or "default").
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { type Document, isMap, isNode, isScalar, LineCounter, parseDocument } from 'yaml';
import type { ConfigProblem } from './errors.ts';
import { configSchema } from './schema.ts';
import { readValueFile, resolveFileSecrets } from './secrets.ts';
import {
  CONFIG_FILE_ENV,
  describeExpected,
  displayPath,
  FILE_SUFFIX,
  knownEnvVars,
  type SchemaNode,
  type Setting,
  schemaAt,
  settings,
} from './settings.ts';
import { closestSetting, isObj, kindOf, type Obj, type Segment, setAt } from './values.ts';

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

/** The layers being read, the problems found so far and where each value came from. */
export class Loader {
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
    resolveFileSecrets(data, this.cwd, (segments, text) => this.problem(segments, text));
    return data;
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
