/**
 * Renders the configuration reference (docs/configuration.md) from the schema.
 * Regenerate with: ./node_modules/.bin/node src/config/reference.ts > docs/configuration.md
 * (test/unit/config fails while the committed file is stale).
 */
import { configSchema } from './schema.ts';
import { CONFIG_FILE_ENV, describeType, FILE_SUFFIX, type SchemaNode, settings } from './settings.ts';

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function code(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `\`${text}\``;
}

function descriptionCell(node: SchemaNode, aliases: readonly string[]): string {
  const parts = [node.description ?? ''];
  if (node.examples && node.examples.length > 0) {
    parts.push(`Example${node.examples.length > 1 ? 's' : ''}: ${node.examples.map(code).join(', ')}.`);
  }
  if (aliases.length > 0) parts.push(`Also read from ${aliases.map(code).join(', ')} (lower precedence).`);
  if (node['x-secret'])
    parts.push('**Secret**: redacted in logs and errors; YAML may give `{ file: /path }`.');
  return cell(parts.join(' '));
}

export function renderReference(): string {
  const sections = configSchema.properties as unknown as Record<string, SchemaNode>;
  const out: string[] = [
    '# Configuration reference',
    '',
    '<!-- Generated from src/config/schema.ts by `node src/config/reference.ts > docs/configuration.md`. Do not edit. -->',
    '',
    'Settings are layered, later layers winning:',
    '',
    '1. built-in defaults (the **Default** column);',
    `2. one YAML file: the file passed to \`loadConfig\`, else the one named by \`${CONFIG_FILE_ENV}\`, else \`config/bridge.yaml\` when it exists (relative to the working directory);`,
    '3. environment variables.',
    '',
    'Rules:',
    '',
    '- Every setting has one variable: `SCIM_BRIDGE_` + its path in SCREAMING_SNAKE_CASE (`ldap.bindDn` → `SCIM_BRIDGE_LDAP_BIND_DN`). ' +
      `An unknown \`SCIM_BRIDGE_*\` variable is an error (typo protection); only \`${CONFIG_FILE_ENV}\` and the aliases below are extra.`,
    `- Any variable may instead be given as \`<NAME>${FILE_SUFFIX}=/path\`: the file's content is used, minus one trailing newline (Docker/Kubernetes secrets). Setting both is an error.`,
    '- In the YAML file a **secret** may be written as `{ file: /path/to/secret }`.',
    `- Aliases: ${settings
      .filter((s) => s.aliases.length > 0)
      .map(
        (s) =>
          `${s.aliases.map(code).join(', ')} set${s.aliases.length > 1 ? '' : 's'} \`${s.key}\` (below \`${s.env}\`)`,
      )
      .join('; ')}.`,
    '- A variable is matched by its full name first: `SCIM_BRIDGE_LDAP_TLS_CA_FILE` is `ldap.tls.caFile` itself (give its value from a file with `SCIM_BRIDGE_LDAP_TLS_CA_FILE_FILE`).',
    '- Empty variables count as unset. Booleans are `true`/`false` (or `1`/`0`); lists are JSON, e.g. `SCIM_BRIDGE_AUTH_TOKENS=\'[{"name":"okta","sha256":"…"}]\'`.',
    '- Relative paths (config file, `*_FILE` and `{ file }` secrets, `mappings.dir`, `ldap.tls.caFile`) are resolved against the working directory.',
    '- A YAML section whose children are all commented out (`ldap:` alone) counts as absent.',
    '- Errors list every problem at once, each with the setting, where the value came from (file:line:column or the variable) and the expected form. Secret values are never printed.',
    '',
    'Checks beyond the types: `ldap.startTls` is refused with an `ldaps://` URL; `ldap.tls.caFile`/`serverName` need TLS in use and the CA file must be readable; ' +
      '`ldap.bindDn` and `ldap.bindPassword` go together; a password in `redis.url` excludes `redis.password`; ' +
      '`limits.maxPageSize` ≥ `limits.defaultPageSize`; `limits.bulkMaxPayloadBytes` ≤ `server.bodyLimitBytes`; ' +
      '`idempotency.lockTtlSeconds` covers `server.requestTimeoutMs` and ≤ `idempotency.ttlSeconds`; token names and hashes are unique.',
    '',
  ];
  for (const [name, section] of Object.entries(sections)) {
    out.push(`## \`${name}\``, '', section.description ?? '', '');
    out.push('| Setting | Environment variable | Type | Default | Description |');
    out.push('|---|---|---|---|---|');
    for (const s of settings.filter((x) => x.path[0] === name)) {
      const node = s.schema;
      const def = node.default === undefined ? '—' : code(node.default);
      out.push(
        `| \`${s.key}\` | \`${s.env}\` | ${cell(describeType(node))} | ${cell(def)} | ${descriptionCell(node, s.aliases)} |`,
      );
    }
    out.push('');
  }
  return out.join('\n');
}

if (import.meta.main) process.stdout.write(renderReference());
