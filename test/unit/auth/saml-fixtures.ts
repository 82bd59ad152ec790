/**
 * SAML fixtures signed at test time by an independent signer: keys and self-signed certificates
 * from `openssl`, enveloped signatures from `xmlsec1` (Debian packages openssl, xmlsec1). Nothing
 * here shares code with the verifier under test.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export const IDP = 'https://idp.example.test/saml';
export const SP = 'https://bridge.example.test/saml';
export const TOKEN_URL = 'https://bridge.example.test/oauth/token';
/** The fixed "now" of every assertion test. */
export const NOW = Date.parse('2026-12-05T12:00:00Z');

export const iso = (offsetSeconds: number): string => new Date(NOW + offsetSeconds * 1000).toISOString();

export function missingSigner(): string[] {
  const missing: string[] = [];
  for (const binary of ['openssl', 'xmlsec1']) {
    try {
      execFileSync(binary, [binary === 'openssl' ? 'version' : '--version'], { stdio: 'ignore' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT')
        missing.push(`${binary} (apt-get install ${binary})`);
    }
  }
  return missing;
}

export interface TestKey {
  readonly keyFile: string;
  readonly certFile: string;
  readonly certPem: string;
  /** The certificate's base64 DER, as metadata carries it. */
  readonly certBase64: string;
}

export class Signer {
  readonly dir = mkdtempSync(path.join(tmpdir(), 'saml-fixtures-'));
  #count = 0;

  /** A fresh RSA-2048 key with a self-signed certificate. */
  key(name: string): TestKey {
    const keyFile = path.join(this.dir, `${name}.key`);
    const certFile = path.join(this.dir, `${name}.crt`);
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`],
        ...['-keyout', keyFile, '-out', certFile],
      ],
      { stdio: 'ignore' },
    );
    const certPem = readFileSync(certFile, 'utf8');
    const certBase64 = certPem.replace(/-----[^-]+-----|\s/g, '');
    return { keyFile, certFile, certPem, certBase64 };
  }

  /** Fills the Signature template of `xml` with xmlsec1; `idElement` is the element whose ID is an ID. */
  sign(xml: string, key: TestKey, idElement = 'urn:oasis:names:tc:SAML:2.0:assertion:Assertion'): string {
    const input = path.join(this.dir, `in-${++this.#count}.xml`);
    const output = `${input}.signed`;
    writeFileSync(input, xml);
    execFileSync(
      'xmlsec1',
      [
        ...['--sign', '--privkey-pem', `${key.keyFile},${key.certFile}`],
        ...[`--id-attr:ID`, idElement, '--output', output, input],
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    return readFileSync(output, 'utf8').replace(/^<\?xml[^>]*\?>\s*/, '');
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export interface SignatureTemplate {
  readonly id: string;
  readonly c14n?: string;
  readonly signatureMethod?: string;
  readonly digestMethod?: string;
  readonly transforms?: readonly string[];
}

const EXC = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';

/** An xmlsec1 signature template (exclusive c14n, RSA-SHA256, SHA-256 digest unless told). */
export function signatureTemplate(t: SignatureTemplate): string {
  const transforms = (t.transforms ?? [ENVELOPED, EXC])
    .map((a) => `<ds:Transform Algorithm="${a}"/>`)
    .join('');
  return (
    '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>' +
    `<ds:CanonicalizationMethod Algorithm="${t.c14n ?? EXC}"/>` +
    `<ds:SignatureMethod Algorithm="${t.signatureMethod ?? 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256'}"/>` +
    `<ds:Reference URI="#${t.id}"><ds:Transforms>${transforms}</ds:Transforms>` +
    `<ds:DigestMethod Algorithm="${t.digestMethod ?? 'http://www.w3.org/2001/04/xmlenc#sha256'}"/>` +
    '<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>' +
    '<ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>'
  );
}

export interface AssertionOptions {
  id?: string;
  issuer?: string;
  /** Raw XML content of NameID. */
  nameId?: string;
  issueInstant?: string;
  notBefore?: string | null;
  notOnOrAfter?: string | null;
  audiences?: readonly string[];
  /** Extra raw XML inside Conditions. */
  extraConditions?: string;
  method?: string;
  recipient?: string | null;
  confirmationNotOnOrAfter?: string | null;
  attributes?: Readonly<Record<string, readonly string[]>>;
  /** Signature template options; null for an unsigned assertion. */
  signature?: Partial<SignatureTemplate> | null;
}

const attr = (name: string, value: string | null | undefined) =>
  value === null || value === undefined ? '' : ` ${name}="${value}"`;

function attributeStatement(attributes: Readonly<Record<string, readonly string[]>>): string {
  const items = Object.entries(attributes).map(
    ([name, values]) =>
      `<saml:Attribute Name="${name}">${values.map((v) => `<saml:AttributeValue>${v}</saml:AttributeValue>`).join('')}</saml:Attribute>`,
  );
  return items.length > 0 ? `<saml:AttributeStatement>${items.join('')}</saml:AttributeStatement>` : '';
}

/** An RFC 7522 bearer assertion valid at NOW for SP / TOKEN_URL, before signing. */
export function assertionXml(o: AssertionOptions = {}): string {
  const id = o.id ?? '_assertion-1';
  const signature = o.signature === null ? '' : signatureTemplate({ id, ...o.signature });
  const audiences = (o.audiences ?? [SP]).map((a) => `<saml:Audience>${a}</saml:Audience>`).join('');
  return (
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${o.issueInstant ?? iso(-5)}">` +
    `<saml:Issuer>${o.issuer ?? IDP}</saml:Issuer>${signature}` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${o.nameId ?? 'provisioner@example.test'}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="${o.method ?? 'urn:oasis:names:tc:SAML:2.0:cm:bearer'}">` +
    `<saml:SubjectConfirmationData${attr('Recipient', o.recipient === undefined ? TOKEN_URL : o.recipient)}${attr('NotOnOrAfter', o.confirmationNotOnOrAfter === undefined ? iso(300) : o.confirmationNotOnOrAfter)}/>` +
    '</saml:SubjectConfirmation></saml:Subject>' +
    `<saml:Conditions${attr('NotBefore', o.notBefore === undefined ? iso(-60) : o.notBefore)}${attr('NotOnOrAfter', o.notOnOrAfter === undefined ? iso(300) : o.notOnOrAfter)}>` +
    `<saml:AudienceRestriction>${audiences}</saml:AudienceRestriction>${o.extraConditions ?? ''}</saml:Conditions>` +
    attributeStatement(o.attributes ?? { groups: ['scim-provisioners', 'staff'] }) +
    '</saml:Assertion>'
  );
}

export interface MetadataOptions {
  entityId?: string;
  /** Base64 certificates with their `use` (undefined: no use attribute). */
  keys: readonly { cert: string; use?: 'signing' | 'encryption' }[];
  validUntil?: string;
  cacheDuration?: string;
  /** Adds a signature template over the EntityDescriptor (ID "_md"). */
  signed?: boolean;
}

export function metadataXml(o: MetadataOptions): string {
  const keys = o.keys
    .map(
      (k) =>
        `<md:KeyDescriptor${attr('use', k.use)}><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${k.cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`,
    )
    .join('');
  return (
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" ID="_md" entityID="${o.entityId ?? IDP}"${attr('validUntil', o.validUntil)}${attr('cacheDuration', o.cacheDuration)}>` +
    (o.signed ? signatureTemplate({ id: '_md' }) : '') +
    `<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">${keys}` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${IDP}/sso"/>` +
    '</md:IDPSSODescriptor></md:EntityDescriptor>'
  );
}

export const METADATA_ID_ELEMENT = 'urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor';

export const b64url = (xml: string): string => Buffer.from(xml, 'utf8').toString('base64url');
