/**
 * Enveloped XML signatures (XML-DSig) over a document's root element, with the shape checked before
 * any cryptography so that signature wrapping (XSW) cannot make a check pass over one element while
 * the caller reads another: the root is the signed element, referenced by its ID, that ID names no
 * other element, the Signature is the root's own child and the only one in the document, and the
 * reference uses only the enveloped-signature and exclusive c14n transforms
 * (SAML core §5.4.1–§5.4.4; saml-sec-consider §6.4).
 */
import { X509Certificate } from 'node:crypto';
import { SignedXml } from 'xml-crypto';
import { attribute, childElements, descendants, NS, onlyChild } from './xml.ts';

const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ENVELOPED = 'http://www.w3.org/2000/09/xmldsig#enveloped-signature';
/** SHA-1 is refused: collisions are practical (SHAttered, 2017). */
const SIGNATURE_METHODS = new Set([
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
  'http://www.w3.org/2001/04/xmldsig-more#rsa-sha512',
]);
const DIGEST_METHODS = new Set([
  'http://www.w3.org/2001/04/xmlenc#sha256',
  'http://www.w3.org/2001/04/xmlenc#sha512',
]);
/** Attribute names that xml-crypto resolves a `#id` reference against. */
const ID_ATTRIBUTES = ['ID', 'Id', 'id'];

export type SignatureCheck =
  | { ok: true; signedXml: string }
  | { ok: false; reason: 'unsigned' | 'malformed' | 'mismatch' };

/** A certificate from metadata (base64 DER, whitespace allowed) as PEM; throws when it is not one. */
export function certificateToPem(base64Der: string): string {
  const body = base64Der.replace(/\s+/g, '');
  const pem = `-----BEGIN CERTIFICATE-----\n${body.match(/.{1,64}/g)?.join('\n') ?? ''}\n-----END CERTIFICATE-----\n`;
  new X509Certificate(pem); // parses or throws
  return pem;
}

/** The one algorithm named by `parent`'s child `localName`, if there is exactly one such child. */
function algorithmOf(parent: Element, localName: string): string | undefined {
  const element = onlyChild(parent, NS.ds, localName);
  return element ? attribute(element, 'Algorithm') : undefined;
}

function countElementsWithId(root: Element, id: string): number {
  let count = 0;
  for (const element of descendants(root)) {
    if (ID_ATTRIBUTES.some((name) => element.getAttribute(name) === id)) count++;
  }
  return count;
}

/** Whether the reference's transforms are exactly enveloped-signature, optionally then exc-c14n. */
function transformsAllowed(reference: Element): boolean {
  const transforms = onlyChild(reference, NS.ds, 'Transforms');
  if (!transforms) return false;
  const algorithms = childElements(transforms).map((t) => attribute(t, 'Algorithm'));
  if (childElements(transforms, NS.ds, 'Transform').length !== algorithms.length) return false;
  const [first, second, ...rest] = algorithms;
  return first === ENVELOPED && (second === undefined || second === EXC_C14N) && rest.length === 0;
}

/**
 * The root's enveloped Signature when the document has the one shape accepted; 'unsigned' when the
 * document carries no signature at all, 'malformed' for every other shape.
 */
export function envelopedSignatureOf(root: Element): Element | 'unsigned' | 'malformed' {
  const all = root.ownerDocument.getElementsByTagNameNS(NS.ds, 'Signature');
  if (all.length === 0) return 'unsigned';
  const signature = onlyChild(root, NS.ds, 'Signature');
  if (all.length !== 1 || !signature) return 'malformed';
  const signedInfo = onlyChild(signature, NS.ds, 'SignedInfo');
  if (!signedInfo || childElements(signedInfo, NS.ds, 'Reference').length !== 1) return 'malformed';
  if (algorithmOf(signedInfo, 'CanonicalizationMethod') !== EXC_C14N) return 'malformed';
  if (!SIGNATURE_METHODS.has(algorithmOf(signedInfo, 'SignatureMethod') ?? '')) return 'malformed';
  const reference = onlyChild(signedInfo, NS.ds, 'Reference')!;
  const id = attribute(root, 'ID');
  if (!id || attribute(reference, 'URI') !== `#${id}`) return 'malformed';
  if (countElementsWithId(root, id) !== 1) return 'malformed';
  if (!transformsAllowed(reference)) return 'malformed';
  if (!DIGEST_METHODS.has(algorithmOf(reference, 'DigestMethod') ?? '')) return 'malformed';
  return signature;
}

/**
 * Checks the root's enveloped signature against each trusted certificate in turn (several during a
 * key rollover). The key is never taken from the document's own KeyInfo. On success, `signedXml`
 * is the canonical form of exactly the signed element, which is what the caller should read.
 */
export function checkEnvelopedSignature(
  xml: string,
  root: Element,
  certificatesPem: string[],
): SignatureCheck {
  const signature = envelopedSignatureOf(root);
  if (typeof signature === 'string') return { ok: false, reason: signature };
  for (const publicCert of certificatesPem) {
    const verifier = new SignedXml({ publicCert, getCertFromKeyInfo: () => null });
    try {
      verifier.loadSignature(signature);
      if (verifier.checkSignature(xml)) {
        const [signedXml, ...more] = verifier.getSignedReferences();
        if (signedXml !== undefined && more.length === 0) return { ok: true, signedXml };
      }
    } catch {
      // a wrong key or a broken value: try the next certificate
    }
  }
  return { ok: false, reason: 'mismatch' };
}
