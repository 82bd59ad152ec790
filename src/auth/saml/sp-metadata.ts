/**
 * The bridge's own SAML 2.0 metadata as a service provider (SAML metadata §2.4.4), served at
 * /saml/metadata so an IdP administrator can register the bridge by URL. samlify writes the
 * document; when a key is configured it is signed (an enveloped signature over the
 * EntityDescriptor, metadata §3) with xml-crypto, the library that verifies signatures here too.
 */
import samlify from 'samlify';
import { SignedXml } from 'xml-crypto';

export interface SpMetadataOptions {
  readonly entityId: string;
  /** Where IdPs POST Web SSO responses (SAML bindings §3.5). */
  readonly assertionConsumerServiceUrl?: string;
  /** PEM certificate published as the SP's signing key. */
  readonly certificatePem?: string;
  /** PEM private key of certificatePem: signs the document. */
  readonly privateKeyPem?: string;
}

const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
/** The ID the signature's Reference points at (metadata §3.1: the signed element carries an ID). */
const DOCUMENT_ID = '_bridge-sp-metadata';
const ROOT = "/*[local-name(.)='EntityDescriptor']";

export function spMetadataXml(options: SpMetadataOptions): string {
  const sp = samlify.ServiceProvider({
    entityID: options.entityId,
    wantAssertionsSigned: true,
    ...(options.certificatePem ? { signingCert: options.certificatePem } : {}),
    assertionConsumerService: options.assertionConsumerServiceUrl
      ? [{ Binding: POST_BINDING, Location: options.assertionConsumerServiceUrl }]
      : [],
  });
  const xml = sp.getMetadata().replace('<EntityDescriptor ', `<EntityDescriptor ID="${DOCUMENT_ID}" `);
  if (!options.privateKeyPem) return xml;
  const signer = new SignedXml({
    privateKey: options.privateKeyPem,
    ...(options.certificatePem ? { publicCert: options.certificatePem } : {}),
    signatureAlgorithm: 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    canonicalizationAlgorithm: 'http://www.w3.org/2001/10/xml-exc-c14n#',
  });
  signer.addReference({
    xpath: ROOT,
    transforms: [
      'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
      'http://www.w3.org/2001/10/xml-exc-c14n#',
    ],
    digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256',
  });
  // The schema puts ds:Signature first inside EntityDescriptor.
  signer.computeSignature(xml, { location: { reference: ROOT, action: 'prepend' } });
  return signer.getSignedXml();
}
