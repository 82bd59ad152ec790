/**
 * `scim-ldap-bridge reconcile [--service NAME] [--dry-run]` (docs/architecture.md §Change feed):
 * compares the directory with what each downstream service was last told and publishes exactly
 * the differences. The disaster-recovery path: after a directory restore, run it and downstream
 * converges.
 */
import { type BridgeConfig, ConfigError, loadConfig } from '../../config/index.ts';
import type { ChangeEvent } from '../../ports/events.ts';

export const RECONCILE_HELP = `usage: scim-ldap-bridge reconcile [--service NAME]... [--dry-run]

Walks the directory (ldap.url, paged, never whole in memory) and compares every user and group
with what each service of events.services was last told (a digest per entry and attribute, kept
in the shared Redis: redis.url). Publishes exactly the differences to that service: created,
updated (naming the attributes), deleted. Run it after restoring the directory from a backup, or
to bring a newly added service up to date.

  --service NAME   only this service (repeatable; default: every configured service)
  --dry-run        print the differences (service, change, Type/id, attributes); publish nothing

Exit status: 0 when done, 1 when it failed, 2 on usage or configuration errors.
`;

export interface ReconcileArguments {
  services: string[];
  dryRun: boolean;
}

/** The options, or a usage message. */
export function parseReconcileArguments(args: readonly string[]): ReconcileArguments | string {
  const parsed: ReconcileArguments = { services: [], dryRun: false };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg === '--dry-run') parsed.dryRun = true;
    else if (arg === '--service' || arg.startsWith('--service=')) {
      const name = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : args[++i];
      if (!name) return 'reconcile: --service needs a service name';
      parsed.services.push(name);
    } else return `reconcile: unknown argument ${arg}`;
  }
  return parsed;
}

export function formatDifference(service: string, event: ChangeEvent): string {
  const attributes = event.changedAttributes.length > 0 ? `\t${event.changedAttributes.join(',')}` : '';
  return `${service}\t${event.change}\t${event.resourceType}/${event.resourceId}${attributes}\n`;
}

export async function reconcileCommand(
  args: readonly string[],
  usage: (message: string) => number,
): Promise<number> {
  const parsed = parseReconcileArguments(args);
  if (typeof parsed === 'string') return usage(parsed);
  let config: BridgeConfig;
  try {
    config = loadConfig();
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`scim-ldap-bridge: invalid configuration\n${error.message}\n`);
    return 2;
  }
  const known = config.events.services.map((s) => s.name);
  const unknown = parsed.services.find((name) => !known.includes(name));
  if (unknown !== undefined)
    return usage(
      `reconcile: no service "${unknown}" in events.services (${known.join(', ') || 'none configured'})`,
    );
  let opened: ReturnType<typeof import('../../start-feed.ts').openReconciliation>;
  try {
    opened = await import('../../start-feed.ts').then((m) => m.openReconciliation(config));
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    process.stderr.write(`scim-ldap-bridge: ${error.message}\n`);
    return 2;
  }
  try {
    const report = await opened.run({
      services: parsed.services.length > 0 ? parsed.services : known,
      dryRun: parsed.dryRun,
      onDifference: (service, event) => {
        if (parsed.dryRun) process.stdout.write(formatDifference(service, event));
      },
    });
    for (const [service, counts] of Object.entries(report))
      process.stderr.write(
        `${service}: ${counts.created} created, ${counts.updated} updated, ${counts.deleted} deleted, ${counts.unchanged} unchanged${parsed.dryRun ? ' (dry run: nothing published)' : ''}\n`,
      );
    return 0;
  } catch (error) {
    process.stderr.write(`scim-ldap-bridge: reconcile failed: ${(error as Error).message}\n`);
    return 1;
  } finally {
    await opened.close();
  }
}
