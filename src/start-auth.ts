/**
 * Authentication at start-up (part of the composition root, like start-steps.ts): the static
 * bearer tokens, the tokens issued at POST /oauth/token (Redis), the trusted SAML IdPs and their
 * metadata refresh, the SAML 2.0 bearer grant (RFC 7522) and the SP metadata. Scopes named in
 * the configuration are checked against the mapped resource types here, once they are known.
 */
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { Authenticator } from './auth/authenticator.ts';
import { IssuedTokens } from './auth/issued-tokens.ts';
import type { TrustStore } from './auth/saml/trust-store.ts';
import type { WebSso } from './auth/saml/web-sso.ts';
import { checkScopeRules, parseScopes, type ScopeRule } from './auth/scopes.ts';
import { SessionStore } from './auth/sessions.ts';
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
  /** Admin console sessions (token and SAML sign-ins alike), in Redis. */
  readonly sessions: SessionStore;
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

/** The token endpoint's public URL: configured, or derived from server.publicBaseUrl. */
export function tokenEndpointUrlOf(config: BridgeConfig): string | undefined {
  const base = config.server.publicBaseUrl;
  return config.auth.saml.tokenEndpointUrl ?? (base ? new URL('/oauth/token', base).href : undefined);
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
  const sessions = new SessionStore(redis, {
    prefix: config.redis.keyPrefix,
    idleSeconds: config.admin.sessionIdleSeconds,
    maxSeconds: config.admin.sessionMaxSeconds,
  });
  // SAML (samlify, xml-crypto) is loaded only when configured: a plain start stays quick.
  const saml =
    config.auth.saml.entityId !== undefined
      ? await import('./start-saml.ts').then((m) =>
          m.startSaml(config, { redis, issued, sessions, endpoints, logger }),
        )
      : undefined;
  return {
    authenticator,
    statics,
    issued,
    sessions,
    ...saml?.parts,
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
    warnings: () => saml?.warnings() ?? [],
    stop: () => {
      saml?.stop();
      revocations?.disconnect();
    },
  };
}
