/**
 * The `scim-ldap-bridge` command: `serve` (the default), `validate [dir]`, `preview`, `jobs`, `worker`,
 * `tokens`, `trust`, `--help`.
 */
import { readFileSync } from 'node:fs';
import { type BridgeConfig, ConfigError, loadConfig, preferredWritableUrl } from '../config/index.ts';
import { STANDARD_SCHEMAS } from '../mapping/catalog.ts';
import type { MappingSet } from '../mapping/compiled.ts';
import { loadMappingDirectory } from '../mapping/load.ts';
import { formatProblem, MappingError, type MappingProblem } from '../mapping/problems.ts';
import { subschemaVerifier } from '../mapping/subschema.ts';
import type { DirEntry } from '../ports/directory.ts';
import { type PreviewRequest, PreviewUsageError, previewRequest } from '../services/preview.ts';
import { formatPreview } from '../services/preview-text.ts';
import { TOKENS_HELP, tokensCommand } from './commands/tokens.ts';
import { TRUST_HELP, trustCommand } from './commands/trust.ts';

const HELP: Record<string, string> = {
  tokens: TOKENS_HELP,
  trust: TRUST_HELP,
  main: `usage: scim-ldap-bridge <command> [options]

commands:
  serve               run the SCIM service (what npm start does)
  validate [dir]      check the mapping files in dir (default: mappings/openldap); --directory
                      also checks them against the configured directory's schema
  preview METHOD PATH print the LDAP operations a SCIM request would perform (no directory needed)
  jobs list|retry|replay  inspect and repair event deliveries (dead letters, replay)
  worker              run event delivery workers only (scale out beside the servers)
  reconcile           publish the differences between the directory and what services were told
  tokens create|list|revoke  static bearer tokens (configuration) and issued tokens (Redis)
  trust add|list|remove      trusted SAML identity providers (metadata)

Run "scim-ldap-bridge <command> --help" for a command's options.
`,
  serve: `usage: scim-ldap-bridge serve

Runs the SCIM service with the configuration from config/bridge.yaml and SCIM_BRIDGE_* variables.
With no ldap.url / redis.url it starts a throwaway slapd and redis-server (the local default).
`,
  validate: `usage: scim-ldap-bridge validate [--directory] [dir]

Loads every *.yaml mapping file in dir (default: mappings/openldap), checks it against
mappings/mapping.schema.json and the SCIM schemas, and prints each problem as
  file:line:column key: message (hint: ...)

  --directory   also check every LDAP attribute and object class the mappings name against the
                schema of the directory in the configuration (ldap.url, ldap.bindDn,
                ldap.bindPassword from config/bridge.yaml or SCIM_BRIDGE_* variables), as the
                service does at start-up. A directory that cannot be asked is an error here.
Exit status: 0 when the mappings are valid, 1 when any problem was found, 2 on usage errors.
`,
  preview: `usage: scim-ldap-bridge preview [options] METHOD PATH

Runs the SCIM request through the real services against a recording stand-in for the directory
and prints every LDAP operation it would perform (LDIF-like: DN, attributes and changes, search
base/scope/filter as RFC 4515 text, sort/paging/assertion controls), then the SCIM status.
Nothing connects to a directory. Entries looked up by id are simulated as
<rdn attribute>=<id>,<base> holding only their id, unless --current describes the target.

  METHOD               GET, POST, PUT, PATCH or DELETE
  PATH                 /Users, /Users/<id>, /Groups?filter=...&startIndex=1&count=10&sortBy=...

options:
  --mappings DIR       mapping directory (default: mappings/openldap)
  --body FILE          JSON request body from FILE ("-" reads standard input)
  --data JSON          JSON request body given inline
  --filter FILTER      SCIM filter for a GET on a collection (same as ?filter=)
  --if-match ETAG      If-Match precondition (becomes an RFC 4528 assertion)
  --current FILE       the target entry as JSON {"dn": ..., "attributes": {"uid": ["alice"], ...}}

example:
  scim-ldap-bridge preview GET '/Users' --filter 'userName eq "alice"'
  scim-ldap-bridge preview POST /Users --data '{"userName":"alice","name":{"familyName":"A"}}'
Exit status: 0 when the request would succeed, 1 when the bridge would refuse it, 2 on usage errors.
`,
  jobs: `usage: scim-ldap-bridge jobs <subcommand>

Event deliveries (one BullMQ queue per events.services entry, in the shared Redis: redis.url).
A dead letter is a delivery that failed for good (a 4xx answer, or maxAttempts exhausted).

  jobs list [--failed] [--limit N] [--json]
                       deliveries not yet done (waiting, active, delayed, failed); --failed: dead letters only
  jobs retry <jobId>   deliver a dead-lettered job again (job id = event id)
  jobs retry --all-failed
                       deliver every dead letter again
  jobs replay <eventId>
                       deliver an event again although it was delivered (same event id)

Exit status: 0 on success, 1 when nothing matched, 2 on usage or configuration errors.
`,
  worker: `usage: scim-ldap-bridge worker

Runs the event delivery workers of events.services without the HTTP service, against the shared
Redis (redis.url). Run as many as needed; with separate workers set events.workersInProcess=false
on the servers. Stops on SIGINT/SIGTERM after the deliveries in flight.
`,
};

export async function run(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP.main ?? '');
    return 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const text =
      command === 'reconcile' ? (await import('./commands/reconcile.ts')).RECONCILE_HELP : HELP[command];
    if (!text) return usage(`unknown command "${command}"`);
    process.stdout.write(text);
    return 0;
  }
  switch (command) {
    case 'serve':
      await import('../main.ts').then((m) => m.runMain());
      return -1;
    case 'validate':
      return validate(rest);
    case 'preview':
      return preview(rest);
    case 'jobs':
      return jobs(rest);
    case 'worker':
      return worker(rest);
    case 'reconcile':
      return import('./commands/reconcile.ts').then((m) => m.reconcileCommand(rest, usage));
    case 'tokens':
      return tokensCommand(rest, cliConfig, usage).catch(refusedEdit);
    case 'trust':
      return trustCommand(rest, cliConfig, usage).catch(refusedEdit);
    default:
      return usage(`unknown command "${command}"`);
  }
}

/** A configuration edit that the service would refuse: nothing was written. */
function refusedEdit(error: unknown): number {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`scim-ldap-bridge: the configuration file was left unchanged\n${error.message}\n`);
  return 2;
}

function usage(message: string): number {
  process.stderr.write(`scim-ldap-bridge: ${message}\n\n${HELP.main}`);
  return 2;
}

async function validate(args: string[]): Promise<number> {
  const againstDirectory = args.includes('--directory');
  const rest = args.filter((a) => a !== '--directory');
  const options = rest.filter((a) => a.startsWith('-'));
  if (options.length > 0) return usage(`validate: unknown option ${options[0]}`);
  if (rest.length > 1) return usage('validate takes one directory');
  const dir = rest[0] ?? 'mappings/openldap';
  const report = (problems: MappingProblem[]): number => {
    for (const problem of problems) process.stdout.write(`${formatProblem(problem)}\n`);
    process.stderr.write(`${problems.length} problem(s) in ${dir}\n`);
    return 1;
  };
  let set: MappingSet;
  try {
    set = loadMappingDirectory(dir, STANDARD_SCHEMAS);
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    return report(error.problems);
  }
  let checked = '';
  if (againstDirectory) {
    let config: BridgeConfig;
    try {
      config = loadConfig();
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      process.stderr.write(`scim-ldap-bridge: ${error.message}\n`);
      return 2;
    }
    const ldapUrl = preferredWritableUrl(config.ldap);
    if (!ldapUrl)
      return usage('validate --directory needs ldap.url (config/bridge.yaml or SCIM_BRIDGE_LDAP_URL)');
    const { createLogger, directoryFromConfig } = await import('../main.ts');
    const directory = directoryFromConfig(config, undefined, createLogger('silent'));
    try {
      let skipped: string | undefined;
      const problems = await subschemaVerifier(directory, (reason) => {
        skipped = reason;
      })(set);
      if (skipped !== undefined) {
        process.stderr.write(`scim-ldap-bridge: cannot check against ${ldapUrl}: ${skipped}\n`);
        return 1;
      }
      if (problems.length > 0) return report(problems);
      checked = `, checked against the schema of ${ldapUrl}`;
    } finally {
      await directory.close().catch(() => undefined);
    }
  }
  process.stdout.write(
    `${dir}: valid — ${set.resourceTypes.map((r) => `${r.name} (${r.endpoint}, ${r.rules.length} attributes)`).join(', ')}${checked}\n`,
  );
  return 0;
}

const PREVIEW_OPTIONS = new Set(['--mappings', '--body', '--data', '--filter', '--if-match', '--current']);

async function preview(args: string[]): Promise<number> {
  const options = new Map<string, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg.startsWith('--')) {
      const [name, inline] = arg.includes('=')
        ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)]
        : [arg, undefined];
      if (!PREVIEW_OPTIONS.has(name)) return usage(`preview: unknown option ${name}`);
      const value = inline ?? args[++i];
      if (value === undefined) return usage(`preview: ${name} needs a value`);
      options.set(name, value);
    } else positional.push(arg);
  }
  if (positional.length !== 2) return usage('preview needs METHOD and PATH');
  if (options.has('--body') && options.has('--data'))
    return usage('preview: give --body or --data, not both');
  const [method, path] = positional as [string, string];
  const dir = options.get('--mappings') ?? 'mappings/openldap';
  const json = (text: string, what: string): unknown => {
    try {
      return JSON.parse(text);
    } catch (error) {
      throw new PreviewUsageError(`${what} is not JSON: ${(error as Error).message}`);
    }
  };
  const readText = (file: string): string => readFileSync(file === '-' ? 0 : file, 'utf8');
  try {
    const set = loadMappingDirectory(dir, STANDARD_SCHEMAS);
    const request: PreviewRequest = { method, path };
    const bodyFile = options.get('--body');
    const data = options.get('--data');
    if (bodyFile !== undefined) request.body = json(readText(bodyFile), bodyFile);
    if (data !== undefined) request.body = json(data, '--data');
    const filter = options.get('--filter');
    if (filter !== undefined) request.filter = filter;
    const ifMatch = options.get('--if-match');
    if (ifMatch !== undefined) request.ifMatch = ifMatch;
    const currentFile = options.get('--current');
    if (currentFile !== undefined) {
      const current = json(readText(currentFile), currentFile) as DirEntry;
      if (!current || typeof current.dn !== 'string' || typeof current.attributes !== 'object')
        throw new PreviewUsageError(`${currentFile}: expected {"dn": "...", "attributes": {...}}`);
      request.current = current;
    }
    const result = await previewRequest(set, request);
    process.stdout.write(formatPreview(result));
    return result.error ? 1 : 0;
  } catch (error) {
    if (error instanceof MappingError) {
      for (const problem of error.problems) process.stdout.write(`${formatProblem(problem)}\n`);
      process.stderr.write(`${error.problems.length} problem(s) in ${dir}\n`);
      return 1;
    }
    if (error instanceof PreviewUsageError || (error as NodeJS.ErrnoException).code === 'ENOENT')
      return usage(`preview: ${(error as Error).message}`);
    throw error;
  }
}

function cliConfig(): BridgeConfig | undefined {
  try {
    return loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`scim-ldap-bridge: invalid configuration\n${error.message}\n`);
    return undefined;
  }
}

async function jobs(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const flags = new Set(rest.filter((a) => a.startsWith('--')));
  const positional = rest.filter((a, i) => !a.startsWith('--') && rest[i - 1] !== '--limit');
  if (sub !== 'list' && sub !== 'retry' && sub !== 'replay') return usage('jobs needs list, retry or replay');
  const known = sub === 'list' ? ['--failed', '--limit', '--json'] : sub === 'retry' ? ['--all-failed'] : [];
  const unknown = [...flags].find((f) => !known.includes(f));
  if (unknown) return usage(`jobs ${sub}: unknown option ${unknown}`);
  if (sub === 'list' && positional.length > 0) return usage('jobs list takes no arguments');
  if (sub === 'retry' && (flags.has('--all-failed') ? positional.length !== 0 : positional.length !== 1))
    return usage('jobs retry needs one job id, or --all-failed');
  if (sub === 'replay' && positional.length !== 1) return usage('jobs replay needs one event id');
  const config = cliConfig();
  if (!config) return 2;
  let opened: Awaited<ReturnType<typeof import('../main.ts').openJobsAdmin>>;
  try {
    opened = await import('../main.ts').then((m) => m.openJobsAdmin(config));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`scim-ldap-bridge: ${error.message}\n`);
    return 2;
  }
  try {
    const { admin } = opened;
    if (sub === 'list') {
      const limitArg = rest[rest.indexOf('--limit') + 1];
      const limit = flags.has('--limit') ? Number(limitArg) : 100;
      if (!Number.isInteger(limit) || limit < 1) return usage('jobs list: --limit needs a positive integer');
      const rows = await admin.list({ failed: flags.has('--failed'), limit });
      if (flags.has('--json')) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else {
        for (const r of rows)
          process.stdout.write(
            `${r.service}\t${r.state}\t${r.jobId}\t${r.type}\t${r.resourceType}/${r.resourceId}\tattempts=${r.attemptsMade}` +
              `\t${new Date(r.createdAt).toISOString()}${r.failedReason ? `\t${r.failedReason}` : ''}\n`,
          );
        process.stderr.write(`${rows.length} job(s)\n`);
      }
      return 0;
    }
    if (sub === 'retry') {
      const count = flags.has('--all-failed')
        ? await admin.retryAllFailed()
        : await admin.retry(positional[0] ?? '');
      process.stdout.write(`${count} job(s) queued again\n`);
      return count > 0 || flags.has('--all-failed') ? 0 : 1;
    }
    const count = await admin.replay(positional[0] ?? '');
    process.stdout.write(`${count} delivery(ies) queued again\n`);
    return count > 0 ? 0 : 1;
  } finally {
    await opened.close();
  }
}

async function worker(args: string[]): Promise<number> {
  if (args.length > 0) return usage('worker takes no arguments');
  const config = cliConfig();
  if (!config) return 2;
  let running: { stop(): Promise<void> };
  try {
    running = await import('../main.ts').then((m) => m.runWorker(config));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`scim-ldap-bridge: ${error.message}\n`);
    return 2;
  }
  const stop = () => {
    running
      .stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

const code = await run(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
