/** One thing wrong with the configuration. */
export interface ConfigProblem {
  /** Dotted setting path ('ldap.url', 'auth.tokens[0].sha256'), or undefined for file-level problems. */
  readonly setting: string | undefined;
  /** Where the value came from: 'config/bridge.yaml:3:8', 'SCIM_BRIDGE_LDAP_URL', 'default'. */
  readonly source: string;
  /** The problem and the expected form; never contains a secret value. */
  readonly text: string;
}

/** 'from SCIM_BRIDGE_LDAP_URL', 'from config/bridge.yaml:3:8', or 'default'. */
export function describeSource(source: string): string {
  return source === 'default' ? 'default' : `from ${source}`;
}

export function formatProblem(problem: ConfigProblem): string {
  return problem.setting === undefined
    ? `${problem.source}: ${problem.text}`
    : `${problem.setting} (${describeSource(problem.source)}): ${problem.text}`;
}

/** Thrown by `loadConfig`; the message lists every problem found, one per line. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly problems: readonly ConfigProblem[];

  constructor(problems: readonly ConfigProblem[]) {
    const count = problems.length === 1 ? '1 problem' : `${problems.length} problems`;
    super(`Invalid configuration (${count}):\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    this.problems = problems;
  }
}
