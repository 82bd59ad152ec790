/**
 * Trusted identity providers from SAML 2.0 metadata (saml-metadata-2.0-os): the entityID and the
 * signing keys (several during a key rollover), with the metadata's own validity (validUntil,
 * cacheDuration, §2.2.1). samlify's IdentityProvider parses the document (and is kept for SAML
 * SSO); xmldom reads what samlify does not: KeyDescriptors without `use` (which serve both uses,
 * §2.4.1.1), validUntil and cacheDuration, and the metadata's enveloped signature.
 */
import samlify from 'samlify';
import { certificateToPem, checkEnvelopedSignature } from './signature.ts';
import {
  attribute,
  childElements,
  is,
  NS,
  onlyChild,
  parseStrictXml,
  simpleText,
  utcInstant,
} from './xml.ts';

/** A metadata document larger than this is refused (one EntityDescriptor is a few KiB). */
export const MAX_METADATA_BYTES = 1024 * 1024;

export interface IdpMetadata {
  readonly entityId: string;
  /** PEM certificates whose keys may sign assertions, in document order. */
  readonly signingCertificates: readonly string[];
  /** After this instant the metadata must not be used (§2.2.1). */
  readonly validUntil?: Date;
  /** How long the metadata may be cached before it is fetched again (§2.2.1). */
  readonly cacheDurationMs?: number;
  /** samlify's view of the same metadata, for SAML SSO (SP-initiated login). */
  readonly samlify: samlify.IdentityProviderInstance;
}

export interface MetadataExpectations {
  /** When set, the metadata must carry a valid enveloped signature by this certificate (PEM). */
  readonly pinnedCertificatePem?: string;
  /** When set, the metadata must describe this entity. */
  readonly entityId?: string;
}

/** Why metadata was refused. The message is ours: it never quotes the document or key material. */
export class MetadataError extends Error {
  override readonly name = 'MetadataError';
}

const DURATION = /^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/;

/** An xs:duration as milliseconds (a year as 365 days, a month as 30), or undefined. */
export function durationMs(value: string): number | undefined {
  const match = DURATION.exec(value);
  if (!match || value === 'P' || value.endsWith('T')) return undefined;
  const [, years, months, days, hours, minutes, seconds] = match.map((part) => Number(part ?? 0));
  const dayCount = years! * 365 + months! * 30 + days!;
  return ((dayCount * 24 + hours!) * 60 + minutes!) * 60_000 + seconds! * 1000;
}

/** Signing keys of the IDPSSODescriptors: KeyDescriptors with use="signing" or no use at all. */
function signingCertificatesOf(root: Element): string[] {
  const pems: string[] = [];
  for (const descriptor of childElements(root, NS.md, 'IDPSSODescriptor')) {
    for (const key of childElements(descriptor, NS.md, 'KeyDescriptor')) {
      const use = attribute(key, 'use');
      if (use !== undefined && use !== 'signing') continue;
      const x509Data = childElements(onlyChild(key, NS.ds, 'KeyInfo') ?? key, NS.ds, 'X509Data');
      for (const data of x509Data) {
        for (const cert of childElements(data, NS.ds, 'X509Certificate')) {
          const text = simpleText(cert);
          if (!text) continue;
          try {
            pems.push(certificateToPem(text));
          } catch {
            throw new MetadataError('a signing certificate in the metadata is not a valid X.509 certificate');
          }
        }
      }
    }
  }
  return [...new Set(pems)];
}

function checkMetadataSignature(xml: string, root: Element, pinnedPem: string): void {
  const check = checkEnvelopedSignature(xml, root, [pinnedPem]);
  if (check.ok) return;
  if (check.reason === 'unsigned') throw new MetadataError('the metadata is not signed');
  if (check.reason === 'malformed') throw new MetadataError('the metadata signature has an unaccepted form');
  throw new MetadataError('the metadata signature does not verify with the pinned certificate');
}

function validityOf(root: Element): { validUntil?: Date; cacheDurationMs?: number } {
  const validUntilText = attribute(root, 'validUntil');
  const cacheText = attribute(root, 'cacheDuration');
  const validUntil = validUntilText === undefined ? undefined : utcInstant(validUntilText);
  const cacheDurationMs = cacheText === undefined ? undefined : durationMs(cacheText);
  if (validUntilText !== undefined && validUntil === undefined) {
    throw new MetadataError('validUntil is not a UTC dateTime');
  }
  if (cacheText !== undefined && cacheDurationMs === undefined) {
    throw new MetadataError('cacheDuration is not an xs:duration');
  }
  return {
    ...(validUntil !== undefined ? { validUntil: new Date(validUntil) } : {}),
    ...(cacheDurationMs !== undefined ? { cacheDurationMs } : {}),
  };
}

/** samlify's parse; its own errors may quote the document, so only our message leaves. */
function samlifyIdp(xml: string): samlify.IdentityProviderInstance {
  try {
    return samlify.IdentityProvider({ metadata: xml });
  } catch {
    throw new MetadataError('samlify could not read the metadata');
  }
}

/** Parses one EntityDescriptor of an IdP; throws MetadataError when it cannot be trusted. */
export function parseIdpMetadata(xml: string, expect: MetadataExpectations = {}): IdpMetadata {
  if (Buffer.byteLength(xml) > MAX_METADATA_BYTES) throw new MetadataError('the metadata is too large');
  let root: Element;
  try {
    root = parseStrictXml(xml).documentElement;
  } catch (error) {
    throw new MetadataError(`the metadata is refused: ${(error as Error).message}`);
  }
  if (!is(root, NS.md, 'EntityDescriptor'))
    throw new MetadataError('the root is not one md:EntityDescriptor');
  if (expect.pinnedCertificatePem) checkMetadataSignature(xml, root, expect.pinnedCertificatePem);
  const idp = samlifyIdp(xml);
  const entityId = idp.entityMeta.getEntityID();
  if (!entityId) throw new MetadataError('the metadata has no entityID');
  if (expect.entityId !== undefined && entityId !== expect.entityId) {
    throw new MetadataError('the metadata describes another entityID than the one configured');
  }
  const signingCertificates = signingCertificatesOf(root);
  if (signingCertificates.length === 0)
    throw new MetadataError('the metadata has no IdP signing certificate');
  return { entityId, signingCertificates, ...validityOf(root), samlify: idp };
}

export interface FetchOptions {
  readonly timeoutMs: number;
  readonly maxBytes?: number;
}

/** GETs a metadata document: a 200 answer within the timeout and the size bound, no redirects. */
export async function fetchMetadata(url: string, options: FetchOptions): Promise<string> {
  const limit = options.maxBytes ?? MAX_METADATA_BYTES;
  let response: Response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(options.timeoutMs), redirect: 'error' });
  } catch (error) {
    const name = (error as Error).name;
    throw new MetadataError(
      name === 'TimeoutError' ? 'the metadata fetch timed out' : 'the metadata fetch failed',
    );
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new MetadataError(`the metadata fetch answered HTTP ${response.status}`);
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body ?? []) {
      size += chunk.byteLength;
      if (size > limit) throw new MetadataError('the metadata is too large');
      chunks.push(chunk);
    }
  } catch (error) {
    if (error instanceof MetadataError) throw error;
    throw new MetadataError('the metadata fetch failed while reading the body');
  }
  return Buffer.concat(chunks).toString('utf8');
}
