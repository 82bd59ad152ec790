/**
 * `scim-ldap-bridge trust add|list|remove`: the trusted SAML IdPs of the configuration file
 * (auth.saml.trustedIdps). `add` loads the metadata first and refuses what the service would
 * refuse; `list` loads each IdP's metadata now and shows its entityID and signing keys. Running
 * servers take a trust change at their next restart.
 */
import { inspectIdp } from '../../auth-admin.ts';
import { appendToConfigList, configFilePath, removeFromConfigList } from '../../config/edit.ts';
import type { BridgeConfig } from '../../config/index.ts';
import type { ScopeRuleConfig, TrustedIdpConfig } from '../../config/schema.ts';
import { parseArgs } from './args.ts';

export const TRUST_HELP = `usage: scim-ldap-bridge trust <subcommand>

  trust add NAME (--metadata-url URL | --metadata-file FILE) [--entity-id ID]
                 [--signing-cert PEM-FILE] --rule ATTRIBUTE=VALUE:SCOPE[,SCOPE]... [--rule ...]
      checks the IdP's metadata, then adds it to auth.saml.trustedIdps in the configuration file.
      A rule "nameid=VALUE:SCOPES" matches the NameID. Example:
        trust add corp --metadata-url https://idp.example.com/md.xml --rule groups=scim:users:write,groups:write
  trust list       every configured IdP, its metadata loaded now: entityID, validUntil, signing keys.
  trust remove NAME

Restart the servers after a change. The configuration file is SCIM_BRIDGE_CONFIG, else
config/bridge.yaml. Exit status: 0 on success, 1 when the metadata is refused or nothing matched,
2 on usage or configuration errors.
`;

const IDPS = ['auth', 'saml', 'trustedIdps'];

/** "groups=scim-admins:users:write,groups:write" → a rule; the value ends at the first ':'. */
export function parseRule(text: string): ScopeRuleConfig | undefined {
  const match = /^([^=]+)=([^:]+):(.+)$/.exec(text);
  if (!match) return undefined;
  const [, attribute = '', equals = '', scopes = ''] = match;
  const list = scopes.split(',').filter((s) => s !== '');
  return attribute.toLowerCase() === 'nameid'
    ? { nameId: true, equals, scopes: list }
    : { attribute, equals, scopes: list };
}

async function add(name: string, options: Map<string, string[]>, config: BridgeConfig): Promise<number> {
  const one = (key: string) => options.get(key)?.[0];
  const rules = (options.get('--rule') ?? []).map(parseRule);
  if (rules.some((r) => r === undefined)) return -1;
  const idp: TrustedIdpConfig = {
    name,
    ...(one('--metadata-url') ? { metadataUrl: one('--metadata-url') } : {}),
    ...(one('--metadata-file') ? { metadataFile: one('--metadata-file') } : {}),
    ...(one('--signing-cert') ? { metadataSigningCertificate: one('--signing-cert') } : {}),
    ...(one('--entity-id') ? { entityId: one('--entity-id') } : {}),
    scopeRules: rules as ScopeRuleConfig[],
  };
  const seen = await inspectIdp(idp, config);
  if (!seen.ok) {
    process.stderr.write(`metadata refused: ${seen.error}\n`);
    return 1;
  }
  appendToConfigList(configFilePath(), IDPS, idp);
  process.stderr.write(
    `trusting ${seen.entityId} as "${name}" (signing keys ${seen.signingKeys?.join(', ')}); restart the servers.\n`,
  );
  return 0;
}

export async function trustCommand(
  args: string[],
  config: () => BridgeConfig | undefined,
  usage: (message: string) => number,
): Promise<number> {
  const [sub, ...rest] = args;
  const known =
    sub === 'add' ? ['--metadata-url', '--metadata-file', '--entity-id', '--signing-cert', '--rule'] : [];
  const parsed = parseArgs(rest, known);
  if (typeof parsed === 'string') return usage(`trust ${sub}: ${parsed}`);
  const { positional, options } = parsed;
  if (sub === 'add') {
    if (positional.length !== 1) return usage('trust add needs one NAME');
    if (options.has('--metadata-url') === options.has('--metadata-file'))
      return usage('trust add needs exactly one of --metadata-url or --metadata-file');
    const loaded = config();
    if (!loaded) return 2;
    const code = await add(positional[0] as string, options, loaded);
    return code === -1 ? usage('trust add: a --rule is ATTRIBUTE=VALUE:SCOPE[,SCOPE]') : code;
  }
  if (sub === 'list') {
    const loaded = config();
    if (!loaded) return 2;
    for (const idp of loaded.auth.saml.trustedIdps) {
      const seen = await inspectIdp(idp, loaded);
      const where = idp.metadataUrl ?? idp.metadataFile;
      process.stdout.write(
        seen.ok
          ? `${idp.name}\t${seen.entityId}\t${where}\tvalidUntil ${seen.validUntil?.toISOString() ?? '-'}\t${seen.signingKeys?.join(' ')}\n`
          : `${idp.name}\tREFUSED\t${where}\t${seen.error}\n`,
      );
    }
    return 0;
  }
  if (sub === 'remove') {
    if (positional.length !== 1) return usage('trust remove needs one NAME');
    const removed = removeFromConfigList(configFilePath(), IDPS, positional[0] as string);
    process.stderr.write(removed > 0 ? 'removed; restart the servers.\n' : `no IdP "${positional[0]}"\n`);
    return removed > 0 ? 0 : 1;
  }
  return usage('trust needs add, list or remove');
}
