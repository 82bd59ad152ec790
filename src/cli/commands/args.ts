/** Option parsing shared by the auth commands: `--name value` pairs, repeatable ones, positionals. */
export interface Parsed {
  readonly positional: string[];
  readonly options: Map<string, string[]>;
}

/** Parses `args`; every option takes one value. Returns a usage message on an unknown or valueless option. */
export function parseArgs(args: readonly string[], known: readonly string[]): Parsed | string {
  const positional: string[] = [];
  const options = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    if (!known.includes(arg)) return `unknown option ${arg}`;
    const value = args[i + 1];
    if (value === undefined || value.startsWith('--')) return `${arg} needs a value`;
    options.set(arg, [...(options.get(arg) ?? []), value]);
    i++;
  }
  return { positional, options };
}
