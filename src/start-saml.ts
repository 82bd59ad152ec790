/**
 * SAML at start-up (composition root, loaded by start-auth.ts only when auth.saml.entityId is set):
 * the trusted IdPs and their metadata refresh, the RFC 7522 grant, admin Web SSO and the SP
 * metadata.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { IssuedTokens } from './auth/issued-tokens.ts';
import type { AssertionPolicy } from './auth/saml/assertion.ts';
import { type FormFields, tokenRequest } from './auth/saml/grant.ts';
import { fetchMetadata } from './auth/saml/metadata.ts';
import { RedisReplayCache } from './auth/saml/replay-cache.ts';
import { spMetadataXml } from './auth/saml/sp-metadata.ts';
import { type IdpSource, TrustStore } from './auth/saml/trust-store.ts';
import { WebSso } from './auth/saml/web-sso.ts';
import type { ScopeRule } from './auth/scopes.ts';
import type { SessionStore } from './auth/sessions.ts';
import type { BridgeConfig } from './config/index.ts';
import type { TokenEndpoint } from './http/routes/oauth.ts';
import { tokenEndpointUrlOf } from './start-auth.ts';

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

const replayCacheOf = (config: BridgeConfig, redis: Redis) =>
  new RedisReplayCache(redis, `${config.redis.keyPrefix}saml-replay:`);

function rulesOf(config: BridgeConfig): Map<string, ScopeRule[]> {
  return new Map(config.auth.saml.trustedIdps.map((idp) => [idp.name, idp.scopeRules as ScopeRule[]]));
}

function webSsoFor(config: BridgeConfig, trust: TrustStore, redis: Redis, sessions: SessionStore): WebSso {
  const { saml } = config.auth;
  const rules = rulesOf(config);
  return new WebSso({
    entityId: saml.entityId ?? '',
    acsUrl: acsUrlOf(config) ?? '',
    clockSkewMs: saml.clockSkewSeconds * 1000,
    maxLifetimeMs: saml.maxAssertionLifetimeSeconds * 1000,
    sessionTtlSeconds: saml.sessionTtlSeconds,
    sessions,
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

export interface SamlRuntime {
  readonly parts: { trust?: TrustStore; tokenGrant?: TokenEndpoint; webSso?: WebSso; spMetadataXml?: string };
  warnings(): string[];
  stop(): void;
}

export async function startSaml(
  config: BridgeConfig,
  deps: {
    redis: Redis;
    issued: IssuedTokens;
    sessions: SessionStore;
    endpoints: () => readonly string[];
    logger: Logger;
  },
): Promise<SamlRuntime> {
  const { redis, issued, endpoints, logger } = deps;
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
    parts: {
      ...(trust
        ? {
            trust,
            tokenGrant: grantFor(config, { trust, redis, issued, endpoints }),
            webSso: webSsoFor(config, trust, redis, deps.sessions),
          }
        : {}),
      ...(sp ? { spMetadataXml: sp } : {}),
    },
    warnings: () => trustWarnings(trust),
    stop: () => trust?.stop(),
  };
}
