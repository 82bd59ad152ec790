/**
 * RFC 7522 bearer assertions: the `assertion` form field of the token endpoint, verified against
 * every processing rule of RFC 7522 §3 before it may become an access token. Fields are read only
 * from the canonical form of the signed element (what the signature covers), after the document
 * has passed the shape checks of signature.ts. Comments and processing instructions anywhere in
 * the assertion are refused (not ignored): a comment inside NameID is how CVE-2017-11427 split
 * a signed name in two, and refusing leaves no reader that could disagree with canonicalisation.
 */
import { type OAuthRefusal, refuse } from '../oauth-error.ts';
import type { ReplayCache } from './replay-cache.ts';
import { checkEnvelopedSignature } from './signature.ts';
import {
  attribute,
  childElements,
  descendants,
  hasCommentOrInstruction,
  is,
  NS,
  onlyChild,
  parseStrictXml,
  simpleText,
  utcInstant,
  XmlRefusal,
} from './xml.ts';

/** RFC 7522 §2.1: the grant_type value of the SAML 2.0 bearer assertion grant. */
export const SAML2_BEARER_GRANT_TYPE = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
/** Bound on the `assertion` field, checked before decoding. */
export const MAX_ENCODED_ASSERTION = 64 * 1024;

const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const ENTITY_FORMAT = 'urn:oasis:names:tc:SAML:2.0:nameid-format:entity';
/** Condition types that we understand (SAML core §2.5.1); any other refuses the assertion (RFC 7522 §3 item 10). */
const KNOWN_CONDITIONS = new Set(['AudienceRestriction', 'OneTimeUse', 'ProxyRestriction']);

export interface AssertionPolicy {
  /** The bridge's SAML entityID: an acceptable Audience. */
  readonly entityId: string;
  /** The token endpoint URL: the required Recipient, and an acceptable Audience (RFC 7522 §3 items 3–4). */
  readonly tokenEndpointUrl: string;
  /** Allowed clock difference with the IdP, applied to every time check. */
  readonly clockSkewMs: number;
  /** Refuses assertions valid for longer than this from now (RFC 7522 §3 item 5, "unreasonably far"). */
  readonly maxLifetimeMs: number;
}

/** Where issuers are looked up: the signing certificates (PEM) of a trusted IdP, or undefined. */
export interface TrustedIssuers {
  signingCertificates(entityId: string): readonly string[] | undefined;
}

export interface VerifiedAssertion {
  readonly id: string;
  readonly issuer: string;
  /** The NameID (RFC 7522 §3 item 2). */
  readonly subject: string;
  readonly attributes: Readonly<Record<string, readonly string[]>>;
  /** When the assertion stops being acceptable (the earliest NotOnOrAfter that applies). */
  readonly notOnOrAfter: Date;
}

export type AssertionResult = { ok: true; assertion: VerifiedAssertion } | OAuthRefusal;

export interface AssertionContext {
  readonly policy: AssertionPolicy;
  readonly trust: TrustedIssuers;
  readonly replay: ReplayCache;
  readonly now?: () => number;
}

/** What checkConditions and checkConfirmation need from the signed element. */
interface Read {
  readonly id: string;
  readonly issuer: string;
  readonly root: Element;
  readonly now: number;
}

const grant = (description: string): OAuthRefusal => refuse('invalid_grant', description);

/** RFC 7522 §2.1: base64url (RFC 4648 §5), not line-wrapped, padding tolerated. */
export function decodeAssertionField(encoded: string): string | OAuthRefusal {
  if (encoded.length > MAX_ENCODED_ASSERTION) {
    return refuse('invalid_request', `the assertion parameter exceeds ${MAX_ENCODED_ASSERTION} characters`);
  }
  if (!/^[A-Za-z0-9_-]+={0,2}$/.test(encoded)) {
    return refuse('invalid_request', 'the assertion parameter is not base64url-encoded');
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(encoded, 'base64url'));
  } catch {
    return refuse('invalid_request', 'the assertion parameter does not decode to UTF-8 text');
  }
}

/** RFC 7522 §2.1: "MUST NOT contain more than one SAML 2.0 assertion", and it is the document. */
function checkShape(doc: Document): Element | OAuthRefusal {
  const root = doc.documentElement;
  if (!is(root, NS.saml, 'Assertion')) return grant('the document is not a SAML 2.0 Assertion');
  const assertions = descendants(root).filter((e) => /^(Encrypted)?Assertion$/.test(e.localName));
  if (assertions.length !== 1) return grant('expected exactly one Assertion in the document');
  if (hasCommentOrInstruction(root)) {
    return grant('the assertion contains comments or processing instructions, which are not accepted');
  }
  if (attribute(root, 'Version') !== '2.0') return grant('the assertion is not SAML version 2.0');
  return root;
}

/** SAML core §2.2.5: Issuer is the first child; an explicit Format must be the entity format. */
function issuerOf(root: Element): string | OAuthRefusal {
  const issuer = childElements(root)[0];
  if (!issuer || !is(issuer, NS.saml, 'Issuer')) return grant('the assertion has no Issuer');
  const format = attribute(issuer, 'Format');
  if (format !== undefined && format !== ENTITY_FORMAT) return grant("the Issuer's Format is not an entity");
  const text = simpleText(issuer);
  return text ? text : grant('the assertion has no Issuer');
}

/** Issuer trusted, signature by that issuer's key over exactly this element (RFC 7522 §3 items 1, 8). */
function verifiedRoot(xml: string, root: Element, trust: TrustedIssuers, now: number): Read | OAuthRefusal {
  const issuer = issuerOf(root);
  if (typeof issuer !== 'string') return issuer;
  const certificates = trust.signingCertificates(issuer);
  if (!certificates || certificates.length === 0) {
    return grant("the assertion's issuer is not a trusted identity provider");
  }
  const check = checkEnvelopedSignature(xml, root, [...certificates]);
  if (!check.ok) {
    if (check.reason === 'unsigned') return grant('the assertion is not signed');
    if (check.reason === 'malformed') {
      return grant(
        'the signature must be one enveloped signature over the Assertion by its ID (exclusive c14n, RSA-SHA256/512)',
      );
    }
    return grant("the assertion's signature does not verify with the issuer's signing keys");
  }
  // Read from the canonical form of what was signed: nothing outside the signature can be read.
  const signedRoot = parseStrictXml(check.signedXml).documentElement;
  const id = attribute(signedRoot, 'ID');
  if (!id) return grant('the assertion has no ID');
  return { id, issuer, root: signedRoot, now };
}

/** SAML core §2.5.1.2: NotBefore ≤ now < NotOnOrAfter, each widened by the clock skew. */
function checkWindow(element: Element, read: Read, policy: AssertionPolicy, what: string) {
  const notBefore = attribute(element, 'NotBefore');
  const notOnOrAfter = attribute(element, 'NotOnOrAfter');
  const start = notBefore === undefined ? undefined : utcInstant(notBefore);
  const end = notOnOrAfter === undefined ? undefined : utcInstant(notOnOrAfter);
  if (start === undefined && notBefore !== undefined) return grant(`${what} NotBefore is not a UTC dateTime`);
  if (end === undefined && notOnOrAfter !== undefined)
    return grant(`${what} NotOnOrAfter is not a UTC dateTime`);
  if (start !== undefined && read.now + policy.clockSkewMs < start) return grant(`${what} is not yet valid`);
  if (end !== undefined && read.now - policy.clockSkewMs >= end) return grant(`${what} has expired`);
  return { end };
}

/** Conditions (RFC 7522 §3 items 3, 5, 10): the window, our audience in every restriction, no unknown types. */
function checkConditions(read: Read, policy: AssertionPolicy): { end?: number } | OAuthRefusal {
  const conditions = childElements(read.root, NS.saml, 'Conditions');
  if (conditions.length !== 1) return grant('the assertion must have one Conditions element');
  const window = checkWindow(conditions[0]!, read, policy, 'the assertion');
  if ('ok' in window) return window;
  const children = childElements(conditions[0]!);
  if (children.some((c) => c.namespaceURI !== NS.saml || !KNOWN_CONDITIONS.has(c.localName))) {
    return grant('the assertion has a condition of an unsupported type');
  }
  const restrictions = children.filter((c) => c.localName === 'AudienceRestriction');
  const accepted = new Set([policy.entityId, policy.tokenEndpointUrl]);
  const ours = (r: Element) =>
    childElements(r, NS.saml, 'Audience').some((a) => accepted.has(simpleText(a) ?? ''));
  if (restrictions.length === 0 || !restrictions.every(ours)) {
    return grant("the assertion's audience does not name this service");
  }
  return window;
}

/**
 * RFC 7522 §3 item 4: a bearer SubjectConfirmation whose SubjectConfirmationData names the token
 * endpoint as Recipient and has a NotOnOrAfter that has not passed. Returns that NotOnOrAfter.
 */
function checkConfirmation(subject: Element, read: Read, policy: AssertionPolicy): number | OAuthRefusal {
  const bearers = childElements(subject, NS.saml, 'SubjectConfirmation').filter(
    (c) => attribute(c, 'Method') === BEARER,
  );
  if (bearers.length === 0) return grant('the assertion has no bearer subject confirmation');
  let refusal = grant('the bearer subject confirmation has no SubjectConfirmationData');
  for (const confirmation of bearers) {
    const data = onlyChild(confirmation, NS.saml, 'SubjectConfirmationData');
    if (!data) continue;
    if (attribute(data, 'Recipient') !== policy.tokenEndpointUrl) {
      refusal = grant("the subject confirmation's Recipient is not this token endpoint");
      continue;
    }
    if (attribute(data, 'NotOnOrAfter') === undefined) {
      refusal = grant('the subject confirmation has no NotOnOrAfter');
      continue;
    }
    const window = checkWindow(data, read, policy, 'the subject confirmation');
    if ('ok' in window) {
      refusal = window;
      continue;
    }
    return window.end!;
  }
  return refusal;
}

/** The NameID of the one Subject (RFC 7522 §3 item 2); an EncryptedID is not supported. */
function nameIdOf(subject: Element): string | OAuthRefusal {
  const nameId = onlyChild(subject, NS.saml, 'NameID');
  const text = nameId ? simpleText(nameId) : undefined;
  return text ? text : grant('the assertion has no NameID subject (an EncryptedID is not supported)');
}

/** Every AttributeStatement merged: Name → its simple (text) values. */
function attributesOf(root: Element): Record<string, string[]> {
  const found = new Map<string, string[]>();
  for (const statement of childElements(root, NS.saml, 'AttributeStatement')) {
    for (const attr of childElements(statement, NS.saml, 'Attribute')) {
      const name = attribute(attr, 'Name');
      if (!name) continue;
      const values = found.get(name) ?? [];
      for (const value of childElements(attr, NS.saml, 'AttributeValue')) {
        const text = simpleText(value);
        if (text !== undefined) values.push(text);
      }
      found.set(name, values);
    }
  }
  return Object.fromEntries(found);
}

/** Subject, conditions and lifetime of the signed element. */
function readVerified(read: Read, policy: AssertionPolicy): VerifiedAssertion | OAuthRefusal {
  const issueInstant = utcInstant(attribute(read.root, 'IssueInstant'));
  if (issueInstant === undefined) return grant('the assertion has no valid IssueInstant');
  if (issueInstant > read.now + policy.clockSkewMs) return grant('the assertion was issued in the future');
  const subjects = childElements(read.root, NS.saml, 'Subject');
  if (subjects.length !== 1) return grant('the assertion must have one Subject');
  const subject = nameIdOf(subjects[0]!);
  if (typeof subject !== 'string') return subject;
  const conditions = checkConditions(read, policy);
  if ('ok' in conditions) return conditions;
  const confirmed = checkConfirmation(subjects[0]!, read, policy);
  if (typeof confirmed !== 'number') return confirmed;
  const end = Math.min(confirmed, conditions.end ?? Number.POSITIVE_INFINITY);
  if (end - read.now > policy.maxLifetimeMs) return grant('the assertion is valid for longer than accepted');
  const attributes = attributesOf(read.root);
  return { id: read.id, issuer: read.issuer, subject, attributes, notOnOrAfter: new Date(end) };
}

/**
 * Verifies the `assertion` form field. The ID is claimed in the replay cache last, so that an
 * assertion refused for another reason does not use up its ID.
 */
export async function verifyBearerAssertion(
  encoded: string,
  context: AssertionContext,
): Promise<AssertionResult> {
  const xml = decodeAssertionField(encoded);
  if (typeof xml !== 'string') return xml;
  const now = (context.now ?? Date.now)();
  let read: Read | OAuthRefusal;
  try {
    const root = checkShape(parseStrictXml(xml));
    read = 'ok' in root ? root : verifiedRoot(xml, root, context.trust, now);
  } catch (error) {
    if (error instanceof XmlRefusal) return grant(`the assertion is refused: ${error.message}`);
    throw error;
  }
  if ('ok' in read) return read;
  const assertion = readVerified(read, context.policy);
  if ('ok' in assertion) return assertion;
  const ttl = assertion.notOnOrAfter.getTime() + context.policy.clockSkewMs - now;
  if (!(await context.replay.claim(assertion.issuer, assertion.id, ttl))) {
    return grant('the assertion has already been used');
  }
  return { ok: true, assertion };
}
