/**
 * `scim-ldap-bridge tokens create|list|revoke`: static bearer tokens live in the configuration file
 * (auth.tokens, as SHA-256 hashes); running servers take a change on SIGHUP, no restart. Tokens
 * issued at POST /oauth/token live in Redis: `list` shows them by id, `revoke ID` ends one on every
 * instance at once.
 */
import { randomBytes } from 'node:crypto';
import { openIssuedTokens, sha256Hex } from '../../auth-admin.ts';
import { appendToConfigList, configFilePath, removeFromConfigList } from '../../config/edit.ts';
import type { BridgeConfig } from '../../config/index.ts';
import { redisConfigured } from '../../redis-clients.ts';
import { parseArgs } from './args.ts';

export const TOKENS_HELP = `usage: scim-ldap-bridge tokens <subcommand>

  tokens create NAME [--scope SCOPE]... [--expires-at 2027-01-31T00:00:00Z]
      makes a random token, prints it ONCE, and adds its SHA-256 to auth.tokens in the
      configuration file (default scope: admin). Send SIGHUP to running servers to put it in force.
  tokens list
      the static tokens of the configuration, then the tokens issued by the SAML grant (Redis).
  tokens revoke NAME|ID
      a NAME removes a static token from the configuration file (then SIGHUP the servers);
      an ID (64 hex, from "tokens list") revokes an issued token on every instance at once.

The configuration file is SCIM_BRIDGE_CONFIG, else config/bridge.yaml. Exit status: 0 on success,
1 when nothing matched, 2 on usage or configuration errors.
`;

const TOKENS = ['auth', 'tokens'];

type Usage = (message: string) => number;

async function create(name: string, options: Map<string, string[]>, file: string): Promise<number> {
  const token = randomBytes(32).toString('base64url');
  const expiresAt = options.get('--expires-at')?.[0];
  appendToConfigList(file, TOKENS, {
    name,
    sha256: sha256Hex(token),
    scopes: options.get('--scope') ?? ['admin'],
    ...(expiresAt ? { expiresAt } : {}),
  });
  process.stdout.write(`${token}\n`);
  process.stderr.write(`added "${name}" to ${file}; the token above is shown once. SIGHUP the servers.\n`);
  return 0;
}

async function list(config: BridgeConfig): Promise<number> {
  for (const t of config.auth.tokens) {
    process.stdout.write(
      `static\t${t.name}\t${t.scopes.join(' ')}\t${t.expiresAt ?? 'no expiry'}\t${t.sha256.slice(0, 12)}…\n`,
    );
  }
  if (!redisConfigured(config)) return 0;
  const issued = await openIssuedTokens(config);
  try {
    for (const t of await issued.tokens.list()) {
      process.stdout.write(
        `issued\t${t.principal.name}\t${t.scopes.join(' ')}\t${t.expiresAt.toISOString()}\t${t.id}\t${t.principal.issuer}\n`,
      );
    }
  } finally {
    await issued.close();
  }
  return 0;
}

async function revoke(target: string, file: string, config: () => BridgeConfig | undefined): Promise<number> {
  if (!/^[0-9a-f]{64}$/.test(target)) {
    const removed = removeFromConfigList(file, TOKENS, target);
    process.stderr.write(
      removed > 0
        ? `removed "${target}" from ${file}; SIGHUP the servers.\n`
        : `no token "${target}" in ${file}\n`,
    );
    return removed > 0 ? 0 : 1;
  }
  const loaded = config();
  if (!loaded) return 2;
  const issued = await openIssuedTokens(loaded);
  try {
    const revoked = await issued.tokens.revoke({ id: target });
    process.stderr.write(
      revoked ? 'revoked on every instance\n' : 'no such issued token (expired or revoked)\n',
    );
    return revoked ? 0 : 1;
  } finally {
    await issued.close();
  }
}

export async function tokensCommand(
  args: string[],
  config: () => BridgeConfig | undefined,
  usage: Usage,
): Promise<number> {
  const [sub, ...rest] = args;
  const parsed = parseArgs(rest, sub === 'create' ? ['--scope', '--expires-at'] : []);
  if (typeof parsed === 'string') return usage(`tokens ${sub}: ${parsed}`);
  const { positional, options } = parsed;
  const file = configFilePath();
  if (sub === 'create') {
    if (positional.length !== 1) return usage('tokens create needs one NAME');
    return create(positional[0] as string, options, file);
  }
  if (sub === 'list') {
    if (positional.length > 0) return usage('tokens list takes no arguments');
    const loaded = config();
    return loaded ? list(loaded) : 2;
  }
  if (sub === 'revoke') {
    if (positional.length !== 1) return usage('tokens revoke needs one NAME or ID');
    return revoke(positional[0] as string, file, config);
  }
  return usage('tokens needs create, list or revoke');
}
