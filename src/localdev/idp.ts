/**
 * A throwaway SAML identity provider for trying the RFC 7522 grant locally: a key and self-signed
 * certificate from `openssl`, its metadata in a file the bridge can trust (auth.saml.trustedIdps
 * metadataFile), and bearer assertions signed by `xmlsec1` (Debian packages openssl, xmlsec1).
 * Nothing here shares code with the bridge's verifier.
 *
 *   node src/localdev/idp.ts init                     key, certificate and metadata in .local-idp/
 *   node src/localdev/idp.ts assertion NAMEID [GROUP]...   one signed assertion, base64url
 * LOCAL_IDP_DIR names another directory; the audience and recipient are read from the same
 * SCIM_BRIDGE_AUTH_SAML_* variables the bridge reads.
 */
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const LOCAL_IDP_ENTITY_ID = 'https://local-idp.invalid/saml';

export interface LocalIdpFiles {
  readonly dir: string;
  readonly keyFile: string;
  readonly certFile: string;
  readonly metadataFile: string;
}

export interface AssertionRequest {
  readonly nameId: string;
  readonly groups?: readonly string[];
  /** The bridge's auth.saml.entityId. */
  readonly audience: string;
  /** The bridge's token endpoint URL (auth.saml.tokenEndpointUrl). */
  readonly recipient: string;
  readonly lifetimeSeconds?: number;
}

const escapeXml = (text: string) =>
  text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/**
 * Creates (or reuses) the IdP's key, certificate and metadata in `dir`. `ssoUrl`: where its
 * SingleSignOnService answers (idp-server.ts); by default a name that resolves nowhere.
 */
export function initLocalIdp(dir: string, ssoUrl = `${LOCAL_IDP_ENTITY_ID}/sso`): LocalIdpFiles {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const files = {
    dir,
    keyFile: path.join(dir, 'idp.key'),
    certFile: path.join(dir, 'idp.crt'),
    metadataFile: path.join(dir, 'idp-metadata.xml'),
  };
  if (!existsSync(files.keyFile)) {
    execFileSync(
      'openssl',
      [
        ...['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '30', '-subj', '/CN=local-idp'],
        ...['-keyout', files.keyFile, '-out', files.certFile],
      ],
      { stdio: 'ignore' },
    );
  }
  const cert = readFileSync(files.certFile, 'utf8').replace(/-----[^-]+-----|\s/g, '');
  writeFileSync(
    files.metadataFile,
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${LOCAL_IDP_ENTITY_ID}">` +
      '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">' +
      `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
      `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${escapeXml(ssoUrl)}"/>` +
      '</md:IDPSSODescriptor></md:EntityDescriptor>',
  );
  return files;
}

/** One bearer assertion (RFC 7522 §3) signed by the local IdP, as the grant's base64url field. */
export function signedAssertion(files: LocalIdpFiles, request: AssertionRequest): string {
  const id = `_${randomBytes(16).toString('hex')}`;
  const now = Date.now();
  const at = (seconds: number) => new Date(now + seconds * 1000).toISOString();
  const until = at(request.lifetimeSeconds ?? 300);
  const groups = (request.groups ?? []).map(
    (g) => `<saml:AttributeValue>${escapeXml(g)}</saml:AttributeValue>`,
  );
  const xml =
    `<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" IssueInstant="${at(0)}">` +
    `<saml:Issuer>${LOCAL_IDP_ENTITY_ID}</saml:Issuer>` +
    '<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo>' +
    '<ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/>' +
    '<ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/>' +
    `<ds:Reference URI="#${id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/>` +
    '<ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms>' +
    '<ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference>' +
    '</ds:SignedInfo><ds:SignatureValue/><ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>' +
    `<saml:Subject><saml:NameID>${escapeXml(request.nameId)}</saml:NameID>` +
    '<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">' +
    `<saml:SubjectConfirmationData Recipient="${escapeXml(request.recipient)}" NotOnOrAfter="${until}"/>` +
    '</saml:SubjectConfirmation></saml:Subject>' +
    `<saml:Conditions NotBefore="${at(-30)}" NotOnOrAfter="${until}"><saml:AudienceRestriction>` +
    `<saml:Audience>${escapeXml(request.audience)}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    (groups.length > 0
      ? `<saml:AttributeStatement><saml:Attribute Name="groups">${groups.join('')}</saml:Attribute></saml:AttributeStatement>`
      : '') +
    '</saml:Assertion>';
  const input = path.join(files.dir, `${id}.xml`);
  writeFileSync(input, xml);
  const signed = execFileSync(
    'xmlsec1',
    [
      ...['--sign', '--privkey-pem', `${files.keyFile},${files.certFile}`],
      ...['--id-attr:ID', 'urn:oasis:names:tc:SAML:2.0:assertion:Assertion', input],
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  ).toString('utf8');
  return Buffer.from(signed.replace(/^<\?xml[^>]*\?>\s*/, ''), 'utf8').toString('base64url');
}

function main(argv: string[]): void {
  const [command, ...rest] = argv;
  const files = initLocalIdp(path.resolve(process.env.LOCAL_IDP_DIR ?? '.local-idp'));
  if (command === 'init') {
    process.stdout.write(`${files.metadataFile}\n`);
    return;
  }
  if (command === 'assertion' && rest[0]) {
    const env = process.env;
    const audience = env.SCIM_BRIDGE_AUTH_SAML_ENTITY_ID ?? 'http://127.0.0.1:8080/saml';
    const recipient = env.SCIM_BRIDGE_AUTH_SAML_TOKEN_ENDPOINT_URL ?? 'http://127.0.0.1:8080/oauth/token';
    process.stdout.write(
      `${signedAssertion(files, { nameId: rest[0], groups: rest.slice(1), audience, recipient })}\n`,
    );
    return;
  }
  process.stderr.write('usage: node src/localdev/idp.ts init | assertion NAMEID [GROUP]...\n');
  process.exitCode = 2;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) main(process.argv.slice(2));
