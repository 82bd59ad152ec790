/**
 * Cross-setting rules that a JSON Schema cannot express (or not readably), one function per
 * section. A setting that already failed validation is left out of these checks (`ok`), so one
 * mistake is reported once.
 */
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import { describeSource } from './errors.ts';
import type { Loader } from './layers.ts';
import { getAt, isObj, type Obj, show } from './values.ts';

/** The validated candidate as the checks read it. */
interface Checked {
  loader: Loader;
  /** None of these dotted settings failed already. */
  ok(...keys: string[]): boolean;
  /** The value of a dotted setting. */
  at(key: string): unknown;
}

export function semanticChecks(loader: Loader, data: Obj, invalid: ReadonlySet<string>): void {
  const checked: Checked = {
    loader,
    ok: (...keys) => keys.every((k) => !invalid.has(k)),
    at: (key) => getAt(data, key.split('.')),
  };
  checkLdapTls(checked);
  checkLdapBind(checked);
  checkLdapServers(checked);
  checkRedis(checked);
  checkLimits(checked);
  checkIdempotency(checked);
  checkTokens(checked);
  checkSaml(checked);
}

function seg(key: string): string[] {
  return key.split('.');
}

/** ", <where the other setting's value came from>", for messages that compare two settings. */
function origin(loader: Loader, segments: string[]): string {
  return `, ${describeSource(loader.sourceOf(segments))}`;
}

/** ldaps:// or StartTLS, and TLS settings only where TLS is used. */
function checkLdapTls({ loader, ok, at }: Checked): void {
  const url = at('ldap.url');
  if (
    ok('ldap.url', 'ldap.startTls') &&
    typeof url === 'string' &&
    url.startsWith('ldaps:') &&
    at('ldap.startTls') === true
  ) {
    loader.problem(
      seg('ldap.startTls'),
      `true cannot be combined with the ldaps:// URL ${show(url, seg('ldap.url'))} (TLS is already on); expected false with ldaps://, or an ldap:// URL`,
    );
  }
  if (
    ok('ldap.url', 'ldap.startTls') &&
    typeof url === 'string' &&
    url.startsWith('ldap:') &&
    at('ldap.startTls') !== true
  ) {
    for (const key of ['ldap.tls.caFile', 'ldap.tls.serverName']) {
      if (at(key) !== undefined && ok(key)) {
        loader.problem(
          seg(key),
          `has no effect: ${show(url, seg('ldap.url'))} is neither ldaps:// nor used with ldap.startTls; expected an ldaps:// URL or ldap.startTls: true`,
        );
      }
    }
  }
  const caFile = at('ldap.tls.caFile');
  if (ok('ldap.tls.caFile') && typeof caFile === 'string') {
    try {
      accessSync(path.resolve(loader.cwd, caFile), constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'error';
      loader.problem(
        seg('ldap.tls.caFile'),
        `cannot read '${caFile}' (${code}); expected a readable PEM file`,
      );
    }
  }
}

function checkLdapBind({ loader, ok, at }: Checked): void {
  const hasDn = at('ldap.bindDn') !== undefined;
  const hasPassword = at('ldap.bindPassword') !== undefined;
  if (hasPassword && !hasDn && ok('ldap.bindDn')) {
    loader.problem(seg('ldap.bindPassword'), 'is set but ldap.bindDn is not; expected both or neither');
  }
  if (hasDn && !hasPassword && ok('ldap.bindDn', 'ldap.bindPassword')) {
    // RFC 4513 §5.1.2: a DN with an empty password is an "unauthenticated bind" that many servers accept
    // as anonymous, which would hide a missing credential.
    loader.problem(
      seg('ldap.bindDn'),
      'is set but ldap.bindPassword is not (an empty password would be an unauthenticated bind, RFC 4513 §5.1.2); expected both or neither',
    );
  }
}

/** ldap.urls: instead of ldap.url, each server once, at least one that takes writes. */
function checkLdapServers({ loader, ok, at }: Checked): void {
  const servers = at('ldap.urls');
  if (!ok('ldap.urls') || !Array.isArray(servers)) return;
  if (at('ldap.url') !== undefined && ok('ldap.url')) {
    loader.problem(seg('ldap.urls'), 'cannot be combined with ldap.url; expected one of the two');
  }
  const urls = servers.map((server) =>
    isObj(server) ? String(server.url).replace(/\/$/, '').toLowerCase() : '',
  );
  urls.forEach((url, index) => {
    if (urls.indexOf(url) !== index) {
      loader.problem(
        [...seg('ldap.urls'), index, 'url'],
        `repeats ldap.urls[${urls.indexOf(url)}]; expected each server once`,
      );
    }
  });
  if (!servers.some((server) => isObj(server) && server.role !== 'readOnly')) {
    loader.problem(
      seg('ldap.urls'),
      'has no server with role readWrite; expected at least one that takes writes',
    );
  }
  const startTls = at('ldap.startTls') === true;
  servers.forEach((server, index) => {
    if (startTls && isObj(server) && String(server.url).startsWith('ldaps:')) {
      loader.problem(
        [...seg('ldap.urls'), index, 'url'],
        'is ldaps:// while ldap.startTls is true (TLS is already on); expected ldap:// URLs with ldap.startTls',
      );
    }
  });
}

function checkRedis({ loader, ok, at }: Checked): void {
  const redisUrl = at('redis.url');
  if (redisUrl !== undefined && at('redis.sentinels') !== undefined) {
    loader.problem(
      seg('redis.sentinels'),
      'is set and redis.url also is; expected one: redis.url for one server, redis.sentinels for Sentinel',
    );
  }
  if (ok('redis.url') && typeof redisUrl === 'string' && at('redis.password') !== undefined) {
    const parsed = URL.canParse(redisUrl) ? new URL(redisUrl) : undefined;
    if (parsed && parsed.password !== '') {
      loader.problem(
        seg('redis.password'),
        'is set and redis.url also carries a password; expected the password in one place only',
      );
    }
  }
}

function checkLimits({ loader, ok, at }: Checked): void {
  const def = at('limits.defaultPageSize');
  const max = at('limits.maxPageSize');
  if (
    ok('limits.defaultPageSize', 'limits.maxPageSize') &&
    typeof def === 'number' &&
    typeof max === 'number' &&
    max < def
  ) {
    loader.problem(
      seg('limits.maxPageSize'),
      `${max} is less than limits.defaultPageSize (${def}${origin(loader, seg('limits.defaultPageSize'))}); expected at least ${def}`,
    );
  }
  const bulk = at('limits.bulkMaxPayloadBytes');
  const body = at('server.bodyLimitBytes');
  if (
    ok('limits.bulkMaxPayloadBytes', 'server.bodyLimitBytes') &&
    typeof bulk === 'number' &&
    typeof body === 'number' &&
    bulk > body
  ) {
    loader.problem(
      seg('limits.bulkMaxPayloadBytes'),
      `${bulk} exceeds server.bodyLimitBytes (${body}${origin(loader, seg('server.bodyLimitBytes'))}), so /Bulk would advertise a size it refuses; expected at most ${body}`,
    );
  }
}

function checkIdempotency({ loader, ok, at }: Checked): void {
  const lock = at('idempotency.lockTtlSeconds');
  const timeout = at('server.requestTimeoutMs');
  if (
    ok('idempotency.lockTtlSeconds', 'server.requestTimeoutMs') &&
    typeof lock === 'number' &&
    typeof timeout === 'number' &&
    lock * 1000 < timeout
  ) {
    loader.problem(
      seg('idempotency.lockTtlSeconds'),
      `${lock} s is shorter than server.requestTimeoutMs (${timeout} ms${origin(loader, seg('server.requestTimeoutMs'))}), so a lock could expire while its request runs; expected at least ${Math.ceil(timeout / 1000)}`,
    );
  }
  const ttl = at('idempotency.ttlSeconds');
  if (
    ok('idempotency.ttlSeconds', 'idempotency.lockTtlSeconds') &&
    typeof ttl === 'number' &&
    typeof lock === 'number' &&
    ttl < lock
  ) {
    loader.problem(
      seg('idempotency.ttlSeconds'),
      `${ttl} is less than idempotency.lockTtlSeconds (${lock}); expected at least ${lock}`,
    );
  }
}

/** Token names and tokens are unique. */
function checkTokens({ loader, ok, at }: Checked): void {
  const tokens = at('auth.tokens');
  if (ok('auth.tokens') && Array.isArray(tokens)) {
    const names = new Map<string, number>();
    const hashes = new Map<string, number>();
    tokens.forEach((t: unknown, i) => {
      if (!isObj(t)) return;
      if (typeof t.name === 'string') {
        const first = names.get(t.name);
        if (first !== undefined) {
          loader.problem(
            ['auth', 'tokens', i, 'name'],
            `${show(t.name, [])} is already used by auth.tokens[${first}]; expected unique names`,
          );
        } else names.set(t.name, i);
      }
      if (typeof t.sha256 === 'string' && /^[0-9a-f]{64}$/i.test(t.sha256)) {
        const first = hashes.get(t.sha256.toLowerCase());
        if (first !== undefined) {
          loader.problem(
            ['auth', 'tokens', i, 'sha256'],
            `is the same token as auth.tokens[${first}]; expected each token once`,
          );
        } else hashes.set(t.sha256.toLowerCase(), i);
      }
    });
  }
}

/** SAML trust: where each IdP's metadata comes from, and what the grant needs to check assertions. */
function checkSaml({ loader, ok, at }: Checked): void {
  const idps = at('auth.saml.trustedIdps');
  if (!ok('auth.saml.trustedIdps') || !Array.isArray(idps)) return;
  const names = new Map<string, number>();
  idps.forEach((idp: unknown, i) => {
    if (!isObj(idp)) return;
    const where = ['auth', 'saml', 'trustedIdps', i];
    if ((idp.metadataUrl === undefined) === (idp.metadataFile === undefined)) {
      loader.problem(where, 'expected exactly one of metadataUrl or metadataFile');
    }
    // Metadata over plain http is only as good as its signature (docs/architecture.md §SAML trust).
    if (
      typeof idp.metadataUrl === 'string' &&
      idp.metadataUrl.startsWith('http:') &&
      !idp.metadataSigningCertificate
    ) {
      loader.problem(
        [...where, 'metadataUrl'],
        'is plain http, so anyone on the path could swap the keys; expected an https URL or metadataSigningCertificate',
      );
    }
    if (typeof idp.name === 'string') {
      const first = names.get(idp.name);
      if (first !== undefined) {
        loader.problem(
          [...where, 'name'],
          `is already used by auth.saml.trustedIdps[${first}]; expected unique names`,
        );
      } else names.set(idp.name, i);
    }
    const rules = Array.isArray(idp.scopeRules) ? idp.scopeRules : [];
    rules.forEach((rule: unknown, r) => {
      if (isObj(rule) && (rule.attribute !== undefined) === (rule.nameId === true)) {
        loader.problem([...where, 'scopeRules', r], 'expected exactly one of "attribute" or "nameId: true"');
      }
    });
  });
  if (idps.length === 0) return;
  if (ok('auth.saml.entityId') && at('auth.saml.entityId') === undefined) {
    loader.problem(
      seg('auth.saml.entityId'),
      'is needed as the Audience of assertions once trustedIdps are configured',
    );
  }
  if (
    ok('auth.saml.tokenEndpointUrl', 'server.publicBaseUrl') &&
    at('auth.saml.tokenEndpointUrl') === undefined &&
    at('server.publicBaseUrl') === undefined
  ) {
    loader.problem(
      seg('auth.saml.tokenEndpointUrl'),
      "is needed as the assertions' Recipient; expected the public URL of POST /oauth/token, or server.publicBaseUrl",
    );
  }
}
