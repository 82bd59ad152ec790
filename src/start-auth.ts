/**
 * Authentication at start-up (part of the composition root, like start-steps.ts): the static
 * bearer tokens, the tokens issued at POST /oauth/token (Redis), the trusted SAML IdPs and their
 * metadata refresh, the SAML 2.0 bearer grant (RFC 7522) and the SP metadata. Scopes named in
 * the configuration are checked against the mapped resource types here, once they are known.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Authenticator } from './auth/authenticator.ts';
import { IssuedTokens } from './auth/issued-tokens.ts';
import type { AssertionPolicy } from './auth/saml/assertion.ts';
import { type FormFields, tokenRequest } from './auth/saml/grant.ts';
import { fetchMetadata } from './auth/saml/metadata.ts';
import { RedisReplayCache } from './auth/saml/replay-cache.ts';
import { spMetadataXml } from './auth/saml/sp-metadata.ts';
import { type IdpSource, TrustStore } from './auth/saml/trust-store.ts';
import { WebSso } from './auth/saml/web-sso.ts';
import { checkScopeRules, parseScopes, type ScopeRule } from './auth/scopes.ts';
import { sha256Hex, TokenVerifier } from './auth/tokens.ts';
import { type BridgeConfig, ConfigError } from './config/index.ts';
import type { TokenEndpoint } from './http/routes/oauth.ts';
import type { MappingSet } from './mapping/compiled.ts';

export interface AuthRuntime {
  readonly authenticator: Authenticator;
  readonly statics: TokenVerifier;
  readonly issued: IssuedTokens;
  readonly trust?: TrustStore;
  readonly tokenGrant?: TokenEndpoint;
  readonly spMetadataXml?: string;
  readonly webSso?: WebSso;
  /** Plain token generated for the local default (only when no token was configured). */
  readonly generatedToken?: string;
  /** Puts the static tokens of a re-read configuration in force (SIGHUP); throws ConfigError. */
  reloadTokens(config: BridgeConfig): void;
  /** /ready warnings: IdPs whose metadata is missing, expired or failed its last refresh. */
  warnings(): string[];
  stop(): void;
}

/**
 * The fallback-token policy: with no token configured, a bridge on the local default generates
 * one for this run (printed at start-up); one pointed at a real directory refuses to start, since
 * no client could authenticate. Kept here, not in src/auth, because it is start-up policy.
 */
export function bearerTokens(config: BridgeConfig): { tokens: TokenVerifier; generatedToken?: string } {
  const entries = [...config.auth.tokens];
  if (entries.length > 0) return { tokens: new TokenVerifier(entries) };
  if (config.ldap.url) {
    throw new ConfigError([
      {
        setting: 'auth.tokens',
        source: 'default',
        text: 'no bearer token is configured, so no client could authenticate; expected auth.tokens entries {name, sha256} or SCIM_BRIDGE_TOKEN',
      },
    ]);
  }
  const generatedToken = randomBytes(24).toString('base64url');
  entries.push({ name: 'local-default', sha256: sha256Hex(generatedToken), scopes: ['admin'] });
  return { tokens: new TokenVerifier(entries), generatedToken };
}

/** Every scope the configuration names exists for the mapped resource types. */
export function checkConfiguredScopes(config: BridgeConfig, endpoints: readonly string[]): void {
  const problems = config.auth.tokens.flatMap((token, i) => {
    const parsed = parseScopes(token.scopes, endpoints);
    return parsed.ok ? [] : parsed.errors.map((text) => ({ setting: `auth.tokens[${i}].scopes`, text }));
  });
  config.auth.saml.trustedIdps.forEach((idp, i) => {
    for (const text of checkScopeRules(idp.scopeRules as ScopeRule[], endpoints)) {
      problems.push({ setting: `auth.saml.trustedIdps[${i}].scopeRules`, text });
    }
  });
  if (problems.length > 0) throw new ConfigError(problems.map((p) => ({ ...p, source: 'configuration' })));
}

/** A PEM given inline, or the file holding it. */
function pemOf(value: string): string {
  return value.trimStart().startsWith('-----BEGIN') ? value : readFileSync(path.resolve(value), 'utf8');
}

function idpSources(config: BridgeConfig): IdpSource[] {
  const { saml } = config.auth;
  return saml.trustedIdps.map((idp) => ({
    name: idp.name,
    ...(idp.entityId ? { entityId: idp.entityId } : {}),
    ...(idp.metadataSigningCertificate
      ? { pinnedCertificatePem: pemOf(idp.metadataSigningCertificate) }
      : {}),
    load: idp.metadataFile
      ? () => readFile(path.resolve(idp.metadataFile as string), 'utf8')
      : () => fetchMetadata(idp.metadataUrl as string, { timeoutMs: saml.metadataFetchTimeoutMs }),
  }));
}

/** The token endpoint's public URL: configured, or derived from server.publicBaseUrl. */
export function tokenEndpointUrlOf(config: BridgeConfig): string | undefined {
  const base = config.server.publicBaseUrl;
  return config.auth.saml.tokenEndpointUrl ?? (base ? new URL('/oauth/token', base).href : undefined);
}

const replayCacheOf = (config: BridgeConfig, redis: Redis) =>
  new RedisReplayCache(redis, `${config.redis.keyPrefix}saml-replay:`);

function rulesOf(config: BridgeConfig): Map<string, ScopeRule[]> {
  return new Map(config.auth.saml.trustedIdps.map((idp) => [idp.name, idp.scopeRules as ScopeRule[]]));
}

function webSsoFor(config: BridgeConfig, trust: TrustStore, redis: Redis): WebSso {
  const { saml } = config.auth;
  const rules = rulesOf(config);
  return new WebSso({
    entityId: saml.entityId ?? '',
    acsUrl: acsUrlOf(config) ?? '',
    clockSkewMs: saml.clockSkewSeconds * 1000,
    maxLifetimeMs: saml.maxAssertionLifetimeSeconds * 1000,
    sessionTtlSeconds: saml.sessionTtlSeconds,
    trust,
    replay: replayCacheOf(config, redis),
    redis,
    prefix: config.redis.keyPrefix,
    scopeRules: (name) => rules.get(name) ?? [],
  });
}

function grantFor(
  config: BridgeConfig,
  parts: { trust: TrustStore; redis: Redis; issued: IssuedTokens; endpoints: () => readonly string[] },
): TokenEndpoint {
  const { saml } = config.auth;
  const policy: AssertionPolicy = {
    entityId: saml.entityId ?? '',
    tokenEndpointUrl: tokenEndpointUrlOf(config) ?? '',
    clockSkewMs: saml.clockSkewSeconds * 1000,
    maxLifetimeMs: saml.maxAssertionLifetimeSeconds * 1000,
  };
  const replay = replayCacheOf(config, parts.redis);
  const rules = rulesOf(config);
  return (form: FormFields, authorization: string | undefined) =>
    tokenRequest(form, authorization, {
      policy,
      trust: parts.trust,
      replay,
      tokens: parts.issued,
      scopeRules: (name) => rules.get(name) ?? [],
      resourceEndpoints: parts.endpoints(),
      tokenTtlSeconds: config.auth.issuedTokens.ttlSeconds,
    });
}

/** Where IdPs post Web SSO Responses: beside the token endpoint. */
function acsUrlOf(config: BridgeConfig): string | undefined {
  const tokenUrl = tokenEndpointUrlOf(config);
  return tokenUrl ? new URL('/saml/acs', tokenUrl).href : undefined;
}

function spMetadataFor(config: BridgeConfig): string | undefined {
  const { saml } = config.auth;
  if (!saml.entityId) return undefined;
  const acs = acsUrlOf(config);
  return spMetadataXml({
    entityId: saml.entityId,
    ...(acs ? { assertionConsumerServiceUrl: acs } : {}),
    ...(saml.spCertificateFile ? { certificatePem: readFileSync(saml.spCertificateFile, 'utf8') } : {}),
    ...(saml.spPrivateKeyFile ? { privateKeyPem: readFileSync(saml.spPrivateKeyFile, 'utf8') } : {}),
  });
}

function trustWarnings(trust: TrustStore | undefined): string[] {
  return (trust?.status() ?? []).flatMap((idp) => {
    if (!idp.trusted)
      return [`SAML IdP "${idp.name}": no usable metadata (${idp.lastError ?? 'not loaded'})`];
    if (idp.lastError === undefined) return [];
    return [
      `SAML IdP "${idp.name}": metadata refresh failed at ${idp.lastErrorAt?.toISOString()} (${idp.lastError}); ` +
        `keeping the metadata loaded at ${idp.loadedAt?.toISOString()}`,
    ];
  });
}

/** A subscriber connection that drops revoked tokens from this instance's cache (issued-tokens.ts). */
function listenForRevocations(redis: Redis, issued: IssuedTokens, logger: Logger): Redis {
  const subscriber = redis.duplicate({ enableOfflineQueue: true });
  subscriber.on('error', (error) => logger.warn({ err: error.message }, 'revocation channel problem'));
  subscriber.on('message', (_channel: string, id: string) => issued.forget(id));
  // Not awaited: start-up goes on when Redis is down; ioredis subscribes again on every reconnect.
  subscriber
    .subscribe(issued.revocationChannel)
    .catch((error: Error) => logger.warn({ err: error.message }, 'revocation channel not subscribed'));
  return subscriber;
}

export async function startAuth(
  config: BridgeConfig,
  parts: { redis: Redis; mappings: () => MappingSet; logger: Logger },
): Promise<AuthRuntime> {
  const { redis, logger } = parts;
  // The scopes that exist follow the mapped resource types (hot reload included).
  const endpoints = () => parts.mappings().resourceTypes.map((rt) => rt.endpoint);
  checkConfiguredScopes(config, endpoints());
  const { tokens: statics, generatedToken } = bearerTokens(config);
  const issued = new IssuedTokens(redis, {
    prefix: `${config.redis.keyPrefix}token:`,
    cacheMs: config.auth.issuedTokens.cacheMs,
  });
  const revocations =
    config.auth.issuedTokens.cacheMs > 0 ? listenForRevocations(redis, issued, logger) : undefined;
  const authenticator = new Authenticator(statics, issued);
  let trust: TrustStore | undefined;
  if (config.auth.saml.trustedIdps.length > 0) {
    trust = new TrustStore(idpSources(config), {
      refreshIntervalMs: config.auth.saml.metadataRefreshSeconds * 1000,
      retryIntervalMs: config.auth.saml.metadataRetrySeconds * 1000,
      log: logger.child({ component: 'saml-trust' }),
    });
    await trust.start();
  }
  const sp = spMetadataFor(config);
  return {
    authenticator,
    statics,
    issued,
    ...(trust
      ? {
          trust,
          tokenGrant: grantFor(config, { trust, redis, issued, endpoints }),
          webSso: webSsoFor(config, trust, redis),
        }
      : {}),
    ...(sp ? { spMetadataXml: sp } : {}),
    ...(generatedToken ? { generatedToken } : {}),
    reloadTokens(next) {
      checkConfiguredScopes(next, endpoints());
      // An empty list would lock every client out; the generated local-default token stays.
      if (next.auth.tokens.length === 0)
        throw new ConfigError([
          {
            setting: 'auth.tokens',
            source: 'configuration',
            text: 'is empty after the reload; the previous tokens stay in force',
          },
        ]);
      statics.replace(next.auth.tokens);
      logger.info({ tokens: next.auth.tokens.map((t) => t.name) }, 'static bearer tokens reloaded');
    },
    warnings: () => trustWarnings(trust),
    stop: () => {
      trust?.stop();
      revocations?.disconnect();
    },
  };
}
