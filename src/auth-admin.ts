/**
 * What the CLI's `tokens` and `trust` commands need from the auth layer (the CLI reaches src/auth
 * only through the composition root, docs/architecture.md §Layers): the issued tokens in the
 * configured Redis, and one look at an IdP's metadata as the service would load it.
 */

import { hash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { IssuedTokens } from './auth/issued-tokens.ts';
import { fetchMetadata, parseIdpMetadata } from './auth/saml/metadata.ts';
import { describeFailure } from './auth/saml/trust-store.ts';
import { sha256Hex } from './auth/tokens.ts';
import { type BridgeConfig, ConfigError } from './config/index.ts';
import type { TrustedIdpConfig } from './config/schema.ts';
import { createRedis, redisConfigured } from './redis-clients.ts';

export { sha256Hex };

export async function openIssuedTokens(
  config: BridgeConfig,
): Promise<{ tokens: IssuedTokens; close(): Promise<void> }> {
  if (!redisConfigured(config)) {
    throw new ConfigError([
      {
        setting: 'redis.url',
        source: 'default',
        text: 'issued tokens live in the shared Redis; expected redis.url (SCIM_BRIDGE_REDIS_URL) or redis.sentinels',
      },
    ]);
  }
  const redis = createRedis(config, 'queue');
  return {
    tokens: new IssuedTokens(redis, { prefix: `${config.redis.keyPrefix}token:` }),
    close: async () => {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}

export interface IdpInspection {
  readonly ok: boolean;
  readonly entityId?: string;
  readonly validUntil?: Date;
  /** SHA-256 fingerprints of the signing certificates, colon-separated hex (as openssl prints them). */
  readonly signingKeys?: string[];
  readonly error?: string;
}

function fingerprint(pem: string): string {
  const der = Buffer.from(pem.replace(/-----[^-]+-----|\s/g, ''), 'base64');
  return (hash('sha256', der, 'hex').toUpperCase().match(/../g) ?? []).join(':');
}

/** Loads and checks one IdP's metadata now, as the service's TrustStore would. */
export async function inspectIdp(idp: TrustedIdpConfig, config: BridgeConfig): Promise<IdpInspection> {
  try {
    const text = idp.metadataFile
      ? await readFile(path.resolve(idp.metadataFile), 'utf8')
      : await fetchMetadata(idp.metadataUrl ?? '', { timeoutMs: config.auth.saml.metadataFetchTimeoutMs });
    const pinned = idp.metadataSigningCertificate;
    const pem =
      pinned && !pinned.trimStart().startsWith('-----BEGIN')
        ? await readFile(path.resolve(pinned), 'utf8')
        : pinned;
    const metadata = parseIdpMetadata(text, {
      ...(idp.entityId ? { entityId: idp.entityId } : {}),
      ...(pem ? { pinnedCertificatePem: pem } : {}),
    });
    return {
      ok: true,
      entityId: metadata.entityId,
      ...(metadata.validUntil ? { validUntil: metadata.validUntil } : {}),
      signingKeys: metadata.signingCertificates.map(fingerprint),
    };
  } catch (error) {
    return { ok: false, error: describeFailure(error) };
  }
}
