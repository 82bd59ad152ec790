import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.ts';
import type { LoadConfigOptions } from '../../../src/config/layers.ts';
import { loadConfig } from '../../../src/config/load.ts';
import { redactConfig } from '../../../src/config/redact.ts';
import { settings } from '../../../src/config/settings.ts';

const repoRoot = path.resolve(import.meta.dirname, '../../..');
let root: string;

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'bridge-config-'));
});
afterAll(() => {
  rmSync(root, { recursive: true, force: true });
});

/** A fresh directory holding `files` (paths relative to it). */
function workspace(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(path.join(root, 'w-'));
  for (const [name, content] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), content);
  }
  return dir;
}

function loadError(options: LoadConfigOptions): ConfigError {
  try {
    loadConfig(options);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected loadConfig to throw a ConfigError');
}

const sha = (text: string): string => createHash('sha256').update(text).digest('hex');
const HEX = 'ab'.repeat(32);

describe('bad YAML files: every message names the setting, file:line:column and the expected form', () => {
  const cases: [string, string, string[]][] = [
    [
      'port is not an integer',
      'server:\n  port: abc\n',
      ["server.port (from bridge.yaml:2:9): 'abc' is not an integer; expected an integer from 0 to 65535"],
    ],
    [
      'port out of range',
      'server:\n  port: 70000\n',
      ['server.port (from bridge.yaml:2:9): 70000 is too large'],
    ],
    [
      'float for an integer',
      'ldap:\n  poolSize: 2.5\n',
      ['ldap.poolSize (from bridge.yaml:2:13): 2.5 is not an integer'],
    ],
    [
      'misspelt LDAP scheme',
      'ldap:\n  url: ldpa://x\n',
      [
        "ldap.url (from bridge.yaml:2:8): 'ldpa://x' is not an LDAP URL; expected ldap://host[:port] or ldaps://host[:port]",
      ],
    ],
    [
      'unknown key with suggestion',
      'ldap:\n  ulr: ldap://x\n',
      ['ldap.ulr (from bridge.yaml:2:3): unknown setting; did you mean ldap.url?'],
    ],
    [
      'unknown section',
      'ldpa:\n  url: ldap://x\n',
      ['ldpa (from bridge.yaml:1:1): unknown setting; did you mean ldap?'],
    ],
    [
      'section given as a scalar',
      'ldap: ldap://x\n',
      ['ldap (from bridge.yaml:1:7): got a string; expected a mapping with keys url, bindDn'],
    ],
    [
      'enum',
      'log:\n  level: loud\n',
      [
        "log.level (from bridge.yaml:2:10): 'loud' is not a valid value; expected one of fatal, error, warn, info",
      ],
    ],
    [
      'YAML 1.1 boolean is a string in YAML 1.2',
      'mappings:\n  watch: yes\n',
      ["mappings.watch (from bridge.yaml:2:10): 'yes' is not a boolean; expected true or false"],
    ],
    [
      'a proxy that is not an address or range',
      'server:\n  trustProxy: [10.0.0.0/33]\n',
      ["server.trustProxy[0] (from bridge.yaml:2:16): '10.0.0.0/33' is not an IP address or CIDR range"],
    ],
    [
      'basePath with trailing slash',
      'server:\n  basePath: /scim/\n',
      [
        "server.basePath (from bridge.yaml:2:13): '/scim/' does not have the expected form; expected a path starting with '/'",
      ],
    ],
    [
      'token hash too short',
      'auth:\n  tokens:\n    - name: okta\n      sha256: abc\n',
      [
        "auth.tokens[0].sha256 (from bridge.yaml:4:15): 'abc' does not have the expected form; expected exactly 64 hexadecimal",
      ],
    ],
    [
      'a PATCH answer other than 200 or 204',
      `auth:\n  tokens:\n    - name: entra\n      sha256: ${HEX}\n      patchResponse: 201\n`,
      ['auth.tokens[0].patchResponse (from bridge.yaml:5:22): 201 is not a valid value; expected 200 or 204'],
    ],
    [
      'token without name',
      `auth:\n  tokens:\n    - sha256: ${HEX}\n`,
      ['auth.tokens[0].name (from bridge.yaml:3:7): is missing; expected a non-empty string'],
    ],
    [
      'number where a string is expected',
      'redis:\n  keyPrefix: 5\n',
      [
        'redis.keyPrefix (from bridge.yaml:2:14): 5 is not a string; expected a non-empty prefix without spaces (quote it in YAML)',
      ],
    ],
    [
      '{ file } on a non-secret',
      'ldap:\n  url: { file: /etc/url }\n',
      [
        'ldap.url (from bridge.yaml:2:8): got a mapping; expected ldap://host[:port]',
        'accepted for secret settings only',
      ],
    ],
    [
      'startTls with ldaps',
      'ldap:\n  url: ldaps://h\n  startTls: true\n',
      ['ldap.startTls (from bridge.yaml:3:13): true cannot be combined with the ldaps:// URL'],
    ],
    [
      'maxPageSize below defaultPageSize',
      'limits:\n  maxPageSize: 50\n',
      ['limits.maxPageSize (from bridge.yaml:2:16): 50 is less than limits.defaultPageSize (100, default)'],
    ],
    [
      'bulk payload above body limit',
      'server:\n  bodyLimitBytes: 2048\n',
      [
        'limits.bulkMaxPayloadBytes (default): 1048576 exceeds server.bodyLimitBytes (2048, from bridge.yaml:2:19)',
      ],
    ],
    [
      'idempotency lock shorter than the request timeout',
      'idempotency:\n  lockTtlSeconds: 10\n',
      [
        'idempotency.lockTtlSeconds (from bridge.yaml:2:19): 10 s is shorter than server.requestTimeoutMs (30000 ms, default)',
      ],
    ],
    [
      'bindDn without password',
      'ldap:\n  bindDn: cn=admin,dc=x\n',
      ['ldap.bindDn (from bridge.yaml:2:11): is set but ldap.bindPassword is not'],
    ],
    [
      'password twice for Redis',
      'redis:\n  url: redis://:a@h\n  password: b\n',
      ['redis.password (from bridge.yaml:3:13): is set and redis.url also carries a password'],
    ],
    [
      'duplicate token names',
      `auth:\n  tokens:\n    - { name: a, sha256: ${HEX} }\n    - { name: a, sha256: ${'cd'.repeat(32)} }\n`,
      ["auth.tokens[1].name (from bridge.yaml:4:15): 'a' is already used by auth.tokens[0]"],
    ],
    [
      'duplicate token hashes (case-insensitive)',
      `auth:\n  tokens:\n    - { name: a, sha256: ${HEX} }\n    - { name: b, sha256: ${HEX.toUpperCase()} }\n`,
      ['auth.tokens[1].sha256 (from bridge.yaml:4:26): is the same token as auth.tokens[0]'],
    ],
    [
      'TLS settings without TLS',
      'ldap:\n  url: ldap://h\n  tls:\n    serverName: h\n',
      ['ldap.tls.serverName (from bridge.yaml:4:17): has no effect'],
    ],
    [
      'unreadable CA file',
      'ldap:\n  url: ldaps://h\n  tls:\n    caFile: nope.pem\n',
      ["ldap.tls.caFile (from bridge.yaml:4:13): cannot read 'nope.pem' (ENOENT)"],
    ],
    ['YAML syntax error', 'server:\n  port: [1,\n', ['bridge.yaml:3:1: YAML syntax error']],
    [
      'duplicate key',
      'server:\n  port: 1\n  port: 2\n',
      ['bridge.yaml:3:3: YAML syntax error: Map keys must be unique'],
    ],
    [
      'top level is a list',
      '- a\n- b\n',
      ['bridge.yaml:1:1: the file holds a list; expected a mapping of sections'],
    ],
  ];

  it.each(cases)('%s', (_, yaml, expected) => {
    const cwd = workspace({ 'bridge.yaml': yaml });
    const error = loadError({ file: 'bridge.yaml', cwd, env: {} });
    for (const text of expected) expect(error.message).toContain(text);
    expect(error.problems).toHaveLength(expected.length === 2 ? 1 : expected.length);
  });

  it('reports every problem at once, in one error', () => {
    const cwd = workspace({
      'bridge.yaml': 'server:\n  port: abc\nldap:\n  url: ldpa://x\nlog:\n  level: loud\nbogus: 1\n',
    });
    const error = loadError({ file: 'bridge.yaml', cwd, env: { SCIM_BRIDGE_LOG_PRETY: 'true' } });
    expect(error.problems.map((p) => p.setting)).toEqual([
      undefined,
      'bogus',
      'server.port',
      'ldap.url',
      'log.level',
    ]);
    expect(error.message).toMatch(
      /^Invalid configuration \(5 problems\):\n {2}- SCIM_BRIDGE_LOG_PRETY: unknown/,
    );
  });

  it('names an absolute path for a file outside the working directory', () => {
    const dir = workspace({ 'b.yaml': 'server:\n  port: x\n' });
    const error = loadError({ file: path.join(dir, 'b.yaml'), cwd: workspace(), env: {} });
    expect(error.message).toContain(`server.port (from ${path.join(dir, 'b.yaml')}:2:9)`);
  });
});

describe('bad environment variables', () => {
  const cases: [string, Record<string, string>, string[]][] = [
    [
      'typo in a variable name',
      { SCIM_BRIDGE_LDAP_BIND_PASWORD: 'pw' },
      [
        'SCIM_BRIDGE_LDAP_BIND_PASWORD: unknown environment variable; did you mean SCIM_BRIDGE_LDAP_BIND_PASSWORD?',
      ],
    ],
    [
      'unknown without a close match',
      { SCIM_BRIDGE_WHATEVER_ELSE: '1' },
      ['SCIM_BRIDGE_WHATEVER_ELSE: unknown environment variable ('],
    ],
    ['section name alone', { SCIM_BRIDGE_LDAP: '{}' }, ['SCIM_BRIDGE_LDAP: unknown environment variable']],
    [
      '_FILE of an alias that has none',
      { SCIM_BRIDGE_CONFIG_FILE: 'x' },
      ['SCIM_BRIDGE_CONFIG_FILE: unknown environment variable'],
    ],
    [
      'not an integer',
      { SCIM_BRIDGE_SERVER_PORT: '80a' },
      [
        "server.port (from SCIM_BRIDGE_SERVER_PORT): '80a' is not an integer; expected an integer from 0 to 65535",
      ],
    ],
    [
      'not a boolean',
      { SCIM_BRIDGE_MAPPINGS_WATCH: 'maybe' },
      ["mappings.watch (from SCIM_BRIDGE_MAPPINGS_WATCH): 'maybe' is not a boolean"],
    ],
    ['PORT alias', { PORT: 'http' }, ["server.port (from PORT): 'http' is not an integer"]],
    [
      'LDAP URL from env',
      { SCIM_BRIDGE_LDAP_URL: 'ldpa://x' },
      [
        "ldap.url (from SCIM_BRIDGE_LDAP_URL): 'ldpa://x' is not an LDAP URL; expected ldap://host[:port] or ldaps://host[:port]",
      ],
    ],
    [
      'Redis URL scheme',
      { SCIM_BRIDGE_REDIS_URL: 'http://h' },
      ["redis.url (from SCIM_BRIDGE_REDIS_URL): 'http://h' is not a Redis URL"],
    ],
    [
      'JSON list that is not JSON',
      { SCIM_BRIDGE_AUTH_TOKENS: '[{name: a}]' },
      [
        'auth.tokens (from SCIM_BRIDGE_AUTH_TOKENS): is not valid JSON; expected a list of { name, sha256, scopes, expiresAt, patchResponse } written as JSON',
      ],
    ],
    [
      'bad item inside a JSON list',
      { SCIM_BRIDGE_AUTH_TOKENS: '[{"name":"a","sha256":"zz"}]' },
      ["auth.tokens[0].sha256 (from SCIM_BRIDGE_AUTH_TOKENS): 'zz' does not have the expected form"],
    ],
    [
      'JSON of the wrong shape',
      { SCIM_BRIDGE_AUTH_TOKENS: '{"a":1}' },
      ['auth.tokens (from SCIM_BRIDGE_AUTH_TOKENS): got a mapping; expected a list'],
    ],
    [
      'value and _FILE both set',
      {
        SCIM_BRIDGE_LDAP_BIND_DN: 'cn=a',
        SCIM_BRIDGE_LDAP_BIND_PASSWORD: 'x',
        SCIM_BRIDGE_LDAP_BIND_PASSWORD_FILE: '/x',
      },
      [
        'ldap.bindPassword (from SCIM_BRIDGE_LDAP_BIND_PASSWORD): both SCIM_BRIDGE_LDAP_BIND_PASSWORD and SCIM_BRIDGE_LDAP_BIND_PASSWORD_FILE are set',
      ],
    ],
    [
      '_FILE that does not exist',
      { SCIM_BRIDGE_LDAP_BIND_DN: 'cn=a', SCIM_BRIDGE_LDAP_BIND_PASSWORD_FILE: 'missing-secret' },
      [
        "ldap.bindPassword (from SCIM_BRIDGE_LDAP_BIND_PASSWORD_FILE): cannot read file 'missing-secret' (ENOENT)",
      ],
    ],
    [
      'SCIM_BRIDGE_CONFIG names a missing file',
      { SCIM_BRIDGE_CONFIG: 'nope.yaml' },
      ['nope.yaml (from SCIM_BRIDGE_CONFIG): cannot read the configuration file (ENOENT)'],
    ],
    [
      'plaintext token too short',
      { SCIM_BRIDGE_TOKEN: 'short' },
      ['auth.token (from SCIM_BRIDGE_TOKEN): <redacted> is too short'],
    ],
  ];

  it.each(cases)('%s', (_, env, expected) => {
    const error = loadError({ cwd: workspace(), env });
    for (const text of expected) expect(error.message).toContain(text);
    expect(error.problems).toHaveLength(expected.length);
  });

  it('ignores variables outside the SCIM_BRIDGE_ prefix and empty ones', () => {
    const config = loadConfig({
      cwd: workspace(),
      env: { HOME: '/root', SCIM_BRIDGEX: '1', SCIM_BRIDGE_LDAP_URL: '', PORT: '' },
    });
    expect(config.ldap.url).toBeUndefined();
    expect(config.server.port).toBe(8080);
  });
});

describe('layering: defaults < file < environment', () => {
  const file = 'server:\n  port: 1000\n  host: 0.0.0.0\nlog:\n  level: warn\n';
  const cases: [string, Record<string, string>, number][] = [
    ['file beats default', {}, 1000],
    ['PORT beats file', { PORT: '2000' }, 2000],
    ['SCIM_BRIDGE_SERVER_PORT beats PORT', { PORT: '2000', SCIM_BRIDGE_SERVER_PORT: '3000' }, 3000],
    ['_FILE variant', { SCIM_BRIDGE_SERVER_PORT_FILE: 'port.txt' }, 4000],
  ];
  it.each(cases)('%s', (_, env, port) => {
    const cwd = workspace({ 'bridge.yaml': file, 'port.txt': '4000\n' });
    const config = loadConfig({ file: 'bridge.yaml', cwd, env });
    expect(config.server.port).toBe(port);
    expect(config.server.host).toBe('0.0.0.0'); // from the file, untouched by env
    expect(config.server.basePath).toBe('/scim/v2'); // default
    expect(config.log.level).toBe('warn');
  });

  it('env fills a leaf in a section the file does not have, and coerces types', () => {
    const config = loadConfig({
      cwd: workspace(),
      env: {
        SCIM_BRIDGE_LDAP_TLS_REJECT_UNAUTHORIZED: 'false',
        SCIM_BRIDGE_MAPPINGS_WATCH: '0',
        SCIM_BRIDGE_SERVER_TRUST_PROXY: '["10.0.0.0/8", "::1"]',
        SCIM_BRIDGE_LIMITS_MAX_PAGE_SIZE: ' 500 ',
        SCIM_BRIDGE_LDAP_URL: 'ldap://127.0.0.1:3890',
        SCIM_BRIDGE_AUTH_TOKENS: JSON.stringify([{ name: 'okta', sha256: HEX.toUpperCase() }]),
      },
    });
    expect(config.ldap.tls.rejectUnauthorized).toBe(false);
    expect(config.mappings.watch).toBe(false);
    expect(config.server.trustProxy).toEqual(['10.0.0.0/8', '::1']);
    expect(config.limits.maxPageSize).toBe(500);
    expect(config.ldap.url).toBe('ldap://127.0.0.1:3890');
    expect(config.auth.tokens).toEqual([{ name: 'okta', sha256: HEX, scopes: ['admin'] }]);
  });

  it('env replaces a whole list from the file', () => {
    const cwd = workspace({ 'bridge.yaml': `auth:\n  tokens:\n    - { name: file, sha256: ${HEX} }\n` });
    const fromEnv = [{ name: 'env', sha256: 'cd'.repeat(32) }];
    const config = loadConfig({
      file: 'bridge.yaml',
      cwd,
      env: { SCIM_BRIDGE_AUTH_TOKENS: JSON.stringify(fromEnv) },
    });
    expect(config.auth.tokens).toEqual(fromEnv.map((t) => ({ ...t, scopes: ['admin'] })));
  });

  it('finds config/bridge.yaml in cwd; SCIM_BRIDGE_CONFIG and then the file option take precedence', () => {
    const cwd = workspace({
      'config/bridge.yaml': 'server:\n  port: 1\n',
      'other.yaml': 'server:\n  port: 2\n',
      'third.yaml': 'server:\n  port: 3\n',
    });
    expect(loadConfig({ cwd, env: {} }).server.port).toBe(1);
    expect(loadConfig({ cwd, env: { SCIM_BRIDGE_CONFIG: 'other.yaml' } }).server.port).toBe(2);
    expect(
      loadConfig({ cwd, file: 'third.yaml', env: { SCIM_BRIDGE_CONFIG: 'other.yaml' } }).server.port,
    ).toBe(3);
    expect(loadConfig({ cwd: workspace(), env: {} }).server.port).toBe(8080);
  });

  it('the discovered file is named in errors relative to cwd', () => {
    const cwd = workspace({ 'config/bridge.yaml': 'server:\n  port: x\n' });
    expect(loadError({ cwd, env: {} }).message).toContain('server.port (from config/bridge.yaml:2:9)');
  });

  it.each([
    ['empty file', ''],
    ['only comments', '# nothing here\n'],
    ['sections with every child commented out', 'ldap:\n  # url: ldap://x\nredis:\n'],
  ])('%s gives the defaults', (_, yaml) => {
    const cwd = workspace({ 'bridge.yaml': yaml });
    const config = loadConfig({ file: 'bridge.yaml', cwd, env: {} });
    expect(config.ldap.poolSize).toBe(4);
    expect(config.redis.keyPrefix).toBe('scim-bridge:');
  });

  it('resolves relative paths against cwd and trims the public base URL', () => {
    const cwd = workspace({
      'ca.pem': 'pem',
      'bridge.yaml': 'ldap:\n  url: ldaps://h\n  tls:\n    caFile: ca.pem\n',
    });
    const config = loadConfig({
      file: 'bridge.yaml',
      cwd,
      env: {
        SCIM_BRIDGE_MAPPINGS_DIR: 'mappings/ad',
        SCIM_BRIDGE_SERVER_PUBLIC_BASE_URL: 'https://x.example/scim/v2/',
      },
    });
    expect(config.ldap.tls.caFile).toBe(path.join(cwd, 'ca.pem'));
    expect(config.mappings.dir).toBe(path.join(cwd, 'mappings/ad'));
    expect(config.server.publicBaseUrl).toBe('https://x.example/scim/v2');
  });

  it('returns a frozen object', () => {
    const config = loadConfig({ cwd: workspace(), env: {} });
    expect(() => {
      (config.server as { port: number }).port = 1;
    }).toThrow(TypeError);
  });
});

describe('secrets', () => {
  it.each([
    ['one trailing newline trimmed', 'pw\n', 'pw'],
    ['CRLF trimmed', 'pw\r\n', 'pw'],
    ['only one newline trimmed', 'pw\n\n', 'pw\n'],
    ['no newline', 'pw', 'pw'],
    ['inner whitespace kept', ' p w ', ' p w '],
  ])('SCIM_BRIDGE_*_FILE: %s', (_, content, expected) => {
    const cwd = workspace({ 'secret.txt': content });
    const config = loadConfig({
      cwd,
      env: {
        SCIM_BRIDGE_LDAP_BIND_DN: 'cn=a',
        SCIM_BRIDGE_LDAP_BIND_PASSWORD_FILE: path.join(cwd, 'secret.txt'),
      },
    });
    expect(config.ldap.bindPassword).toBe(expected);
  });

  it('YAML { file } for a secret, relative to cwd', () => {
    const cwd = workspace({
      'secrets/ldap': 'ldap-pw\n',
      'bridge.yaml':
        'ldap:\n  bindDn: cn=a\n  bindPassword: { file: secrets/ldap }\nredis:\n  password:\n    file: secrets/ldap\n',
    });
    const config = loadConfig({ file: 'bridge.yaml', cwd, env: {} });
    expect(config.ldap.bindPassword).toBe('ldap-pw');
    expect(config.redis.password).toBe('ldap-pw');
  });

  it.each([
    [
      'missing file',
      'ldap:\n  bindDn: cn=a\n  bindPassword: { file: nope }\n',
      "ldap.bindPassword (from bridge.yaml:3:17): cannot read file 'nope' (ENOENT)",
    ],
    [
      'extra key',
      'ldap:\n  bindDn: cn=a\n  bindPassword: { file: x, mode: y }\n',
      'ldap.bindPassword (from bridge.yaml:3:17): got a mapping; expected a string or { file: /path/to/secret }',
    ],
    [
      'wrong key',
      'ldap:\n  bindDn: cn=a\n  bindPassword: { path: x }\n',
      'expected a string or { file: /path/to/secret }',
    ],
    [
      'list',
      'ldap:\n  bindDn: cn=a\n  bindPassword: [x]\n',
      'ldap.bindPassword (from bridge.yaml:3:17): got a list; expected a non-empty string',
    ],
  ])('YAML { file } malformed: %s', (_, yaml, expected) => {
    const cwd = workspace({ 'bridge.yaml': yaml });
    const error = loadError({ file: 'bridge.yaml', cwd, env: {} });
    expect(error.message).toContain(expected);
    expect(error.problems).toHaveLength(1);
  });

  it('SCIM_BRIDGE_TOKEN is hashed into auth.tokens and the plaintext dropped', () => {
    const token = 'plain-token-0123456789';
    const config = loadConfig({ cwd: workspace(), env: { SCIM_BRIDGE_TOKEN: token } });
    expect(config.auth.tokens).toEqual([{ name: 'auth.token', sha256: sha(token), scopes: ['admin'] }]);
    expect(config.auth.token).toBeUndefined();
    expect(JSON.stringify(config)).not.toContain(token);
  });

  it.each([
    ['SCIM_BRIDGE_AUTH_TOKEN', { SCIM_BRIDGE_AUTH_TOKEN: 'canonical-token-0001' }, 'canonical-token-0001'],
    ['SCIM_BRIDGE_TOKEN_FILE', { SCIM_BRIDGE_TOKEN_FILE: 'token.txt' }, 'file-token-000000001'],
    ['SCIM_BRIDGE_AUTH_TOKEN_FILE', { SCIM_BRIDGE_AUTH_TOKEN_FILE: 'token.txt' }, 'file-token-000000001'],
    [
      'canonical beats alias',
      { SCIM_BRIDGE_AUTH_TOKEN: 'canonical-token-0001', SCIM_BRIDGE_TOKEN: 'alias-token-00000001' },
      'canonical-token-0001',
    ],
  ])('token via %s', (_, env, token) => {
    const cwd = workspace({ 'token.txt': 'file-token-000000001\n' });
    const config = loadConfig({ cwd, env });
    expect(config.auth.tokens).toEqual([{ name: 'auth.token', sha256: sha(token), scopes: ['admin'] }]);
  });

  it('a plaintext token equal to a listed hash is not added twice', () => {
    const token = 'plain-token-0123456789';
    const config = loadConfig({
      cwd: workspace(),
      env: {
        SCIM_BRIDGE_TOKEN: token,
        SCIM_BRIDGE_AUTH_TOKENS: JSON.stringify([{ name: 'okta', sha256: sha(token) }]),
      },
    });
    expect(config.auth.tokens).toEqual([{ name: 'okta', sha256: sha(token), scopes: ['admin'] }]);
  });

  it('no secret value appears in any error message', () => {
    const secret = 'S3cr3t-Value-xyz';
    const cwd = workspace({
      'pw.txt': secret,
      'bridge.yaml': [
        'ldap:',
        `  bindPassword: ${secret.length}`, // wrong type, not a secret string - shown as <redacted>
        `  bindPasword: ${secret}`, // misspelt secret key: value must not be echoed
        'redis:',
        `  url: "redis://:${secret}@h/not-a-db"`, // invalid URL carrying a password
        `  password: ${secret}`,
        'auth:',
        `  token: ${secret.slice(0, 8)}`, // too short
        '',
      ].join('\n'),
    });
    const error = loadError({
      file: 'bridge.yaml',
      cwd,
      env: {
        SCIM_BRIDGE_LDAP_BIND_PASSWROD: secret, // typo: value must not be echoed
        SCIM_BRIDGE_AUTH_TOKENS: `[${secret}`, // not JSON
        SCIM_BRIDGE_REDIS_PASSWORD_FILE: 'pw.txt',
        SCIM_BRIDGE_REDIS_PASSWORD: secret,
      },
    });
    expect(error.problems.length).toBeGreaterThanOrEqual(6);
    expect(error.message).toContain('<redacted>');
    expect(error.message).not.toContain(secret);
    expect(error.message).not.toContain(secret.slice(0, 8));
    expect(JSON.stringify(error.problems)).not.toContain(secret);
  });

  it('a YAML syntax error on a secret line does not quote the line', () => {
    const secret = 'Unclosed-S3cret';
    const cwd = workspace({ 'bridge.yaml': `ldap:\n  bindPassword: "${secret}\n  bindDn: x\n` });
    const error = loadError({ file: 'bridge.yaml', cwd, env: {} });
    expect(error.message).toContain('YAML syntax error');
    expect(error.message).not.toContain(secret);
  });

  it('redactConfig masks secrets and URL credentials without touching the original', () => {
    const config = loadConfig({
      cwd: workspace(),
      env: {
        SCIM_BRIDGE_LDAP_BIND_DN: 'cn=a',
        SCIM_BRIDGE_LDAP_BIND_PASSWORD: 'ldap-secret',
        SCIM_BRIDGE_REDIS_URL: 'redis://user:redis-secret@h:6379/1',
      },
    });
    const redacted = redactConfig(config);
    expect(redacted.ldap.bindPassword).toBe('<redacted>');
    expect(redacted.redis.url).toBe('redis://user:<redacted>@h:6379/1');
    expect(redacted.redis.password).toBeUndefined();
    expect(JSON.stringify(redacted)).not.toMatch(/ldap-secret|redis-secret/);
    expect(config.ldap.bindPassword).toBe('ldap-secret');
    expect(redactConfig({ auth: { token: 'x'.repeat(20), tokens: [] } }).auth.token).toBe('<redacted>');
  });
});

describe('good configurations', () => {
  const cases: [string, string, Record<string, string>, (c: ReturnType<typeof loadConfig>) => void][] = [
    [
      'AD over LDAPS with a CA',
      'ldap:\n  url: ldaps://dc1.example.test:636\n  bindDn: svc@example.test\n  bindPassword: pw\n  tls:\n    caFile: ca.pem\n    serverName: DC1.example.test\n',
      {},
      (c) => expect(c.ldap.tls.serverName).toBe('DC1.example.test'),
    ],
    [
      'StartTLS on ldap://',
      'ldap:\n  url: ldap://[::1]:3389\n  startTls: true\n  tls: { caFile: ca.pem }\n',
      {},
      (c) => expect(c.ldap.startTls).toBe(true),
    ],
    [
      'rediss with password in the URL only',
      'redis:\n  url: rediss://:pw@redis.example.com:6380/2\n  keyPrefix: "prod:"\n',
      {},
      (c) => expect(c.redis.keyPrefix).toBe('prod:'),
    ],
    ['port 0 for tests', '', { PORT: '0' }, (c) => expect(c.server.port).toBe(0)],
    [
      'bigger limits, consistent',
      'server:\n  bodyLimitBytes: 4194304\n  requestTimeoutMs: 60000\nlimits:\n  bulkMaxPayloadBytes: 4194304\n  maxPageSize: 100\nidempotency:\n  lockTtlSeconds: 60\n',
      {},
      (c) => expect(c.limits.bulkMaxPayloadBytes).toBe(4194304),
    ],
  ];

  it.each(cases)('%s', (_, yaml, env, check) => {
    const cwd = workspace({ 'bridge.yaml': yaml, 'ca.pem': 'pem' });
    check(loadConfig({ file: 'bridge.yaml', cwd, env }));
  });

  it('config/bridge.example.yaml loads and mentions every setting', () => {
    const file = path.join(repoRoot, 'config/bridge.example.yaml');
    const config = loadConfig({ file, cwd: workspace(), env: {} });
    expect(config.server.port).toBe(8080);
    const text = readFileSync(file, 'utf8');
    for (const s of settings) expect(text, s.key).toMatch(new RegExp(`\\b${s.path[s.path.length - 1]}:`));
  });
});
