/**
 * The `scim-ldap-bridge` command: `serve` (the default), `validate [dir]`, `--help`.
 */
import { STANDARD_SCHEMAS } from '../mapping/catalog.ts';
import { formatProblem, loadMappingDirectory, MappingError } from '../mapping/load.ts';

const HELP: Record<string, string> = {
  main: `usage: scim-ldap-bridge <command> [options]

commands:
  serve               run the SCIM service (what npm start does)
  validate [dir]      check the mapping files in dir (default: mappings/openldap)

Run "scim-ldap-bridge <command> --help" for a command's options.
`,
  serve: `usage: scim-ldap-bridge serve

Runs the SCIM service with the configuration from config/bridge.yaml and SCIM_BRIDGE_* variables.
With no ldap.url / redis.url it starts a throwaway slapd and redis-server (the local default).
`,
  validate: `usage: scim-ldap-bridge validate [dir]

Loads every *.yaml mapping file in dir (default: mappings/openldap), checks it against
mappings/mapping.schema.json and the SCIM schemas, and prints each problem as
  file:line:column key: message (hint: ...)
Exit status: 0 when the mappings are valid, 1 when any problem was found, 2 on usage errors.
`,
};

export async function run(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(HELP.main ?? '');
    return 0;
  }
  if (rest.includes('--help') || rest.includes('-h')) {
    const text = HELP[command];
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
    default:
      return usage(`unknown command "${command}"`);
  }
}

function usage(message: string): number {
  process.stderr.write(`scim-ldap-bridge: ${message}\n\n${HELP.main}`);
  return 2;
}

function validate(args: string[]): number {
  const options = args.filter((a) => a.startsWith('-'));
  if (options.length > 0) return usage(`validate: unknown option ${options[0]}`);
  if (args.length > 1) return usage('validate takes one directory');
  const dir = args[0] ?? 'mappings/openldap';
  try {
    const set = loadMappingDirectory(dir, STANDARD_SCHEMAS);
    process.stdout.write(
      `${dir}: valid — ${set.resourceTypes.map((r) => `${r.name} (${r.endpoint}, ${r.rules.length} attributes)`).join(', ')}\n`,
    );
    return 0;
  } catch (error) {
    if (!(error instanceof MappingError)) throw error;
    for (const problem of error.problems) process.stdout.write(`${formatProblem(problem)}\n`);
    process.stderr.write(`${error.problems.length} problem(s) in ${dir}\n`);
    return 1;
  }
}

const code = await run(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
