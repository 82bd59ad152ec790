import { afterAll, describe, expect, it } from 'vitest';
import type { OAuthErrorCode } from '../../../src/auth/oauth-error.ts';
import {
  type AssertionPolicy,
  MAX_ENCODED_ASSERTION,
  verifyBearerAssertion,
} from '../../../src/auth/saml/assertion.ts';
import { MemoryReplayCache } from '../../../src/auth/saml/replay-cache.ts';
import { checkEnvelopedSignature } from '../../../src/auth/saml/signature.ts';
import { parseStrictXml } from '../../../src/auth/saml/xml.ts';
import {
  type AssertionOptions,
  assertionXml,
  b64url,
  IDP,
  iso,
  missingSigner,
  NOW,
  Signer,
  SP,
  TOKEN_URL,
} from './saml-fixtures.ts';

const signer = new Signer();
const idpKey = signer.key('idp');
const nextKey = signer.key('idp-next');
const attackerKey = signer.key('attacker');
afterAll(() => signer.cleanup());

const policy: AssertionPolicy = {
  entityId: SP,
  tokenEndpointUrl: TOKEN_URL,
  clockSkewMs: 60_000,
  maxLifetimeMs: 3_600_000,
};
const trust = {
  signingCertificates: (entityId: string) =>
    entityId === IDP ? [idpKey.certPem, nextKey.certPem] : undefined,
};

function verify(xml: string, replay = new MemoryReplayCache(() => NOW)) {
  return verifyBearerAssertion(b64url(xml), { policy, trust, replay, now: () => NOW });
}

const signed = (options: AssertionOptions = {}, key = idpKey) => signer.sign(assertionXml(options), key);
const SIGNATURE = /<ds:Signature[\s\S]*<\/ds:Signature>/;
const signatureOf = (xml: string) => SIGNATURE.exec(xml)![0];
const renamed = (xml: string) => xml.replace(/saml:Assertion/g, 'saml:Evidence');

describe('RFC 7522 bearer assertions', () => {
  it('the independent signer is installed (otherwise every test below fails with this hint)', () => {
    expect(missingSigner()).toEqual([]);
  });

  it('accepts a valid assertion and reads issuer, NameID, attributes and expiry from it', async () => {
    const result = await verify(
      signed({ attributes: { groups: ['scim-admins', 'staff'], mail: ['a@x.test'] } }),
    );
    expect(result).toEqual({
      ok: true,
      assertion: {
        id: '_assertion-1',
        issuer: IDP,
        subject: 'provisioner@example.test',
        attributes: { groups: ['scim-admins', 'staff'], mail: ['a@x.test'] },
        notOnOrAfter: new Date(NOW + 300_000),
      },
    });
  });

  it.each<[string, AssertionOptions]>([
    ['signed by the next key of a rollover', {}],
    ['with the token endpoint URL as its audience', { audiences: [TOKEN_URL] }],
    ['with NotBefore inside the clock skew', { notBefore: iso(30) }],
    ['with NotOnOrAfter just passed, inside the clock skew', { notOnOrAfter: iso(-30) }],
    ['without a Conditions NotOnOrAfter (the confirmation bounds it)', { notOnOrAfter: null }],
    ['with OneTimeUse among its conditions', { extraConditions: '<saml:OneTimeUse/>' }],
    ['with our audience among others', { audiences: ['https://other.example.test', SP] }],
  ])('accepts one %s', async (name, options) => {
    const key = name.includes('next key') ? nextKey : idpKey;
    const result = await verify(signed(options, key));
    expect(result.ok).toBe(true);
  });

  it('takes the earliest NotOnOrAfter as the expiry', async () => {
    const result = await verify(signed({ notOnOrAfter: iso(100), confirmationNotOnOrAfter: iso(200) }));
    expect(result.ok && result.assertion.notOnOrAfter).toEqual(new Date(NOW + 100_000));
  });

  const tamperedNameId = () => signed().replace('provisioner@example.test', 'admin@example.test');
  const xsw = (inner: string) =>
    assertionXml({ id: '_evil', nameId: 'admin@example.test', signature: null }).replace(
      '</saml:Assertion>',
      `${inner}</saml:Assertion>`,
    );
  const withSignature = (xml: string, signature: string) =>
    xml.replace(/(<\/saml:Issuer>)/, `$1${signature}`);

  type Case = [string, () => string, OAuthErrorCode, RegExp];
  const refusals: Case[] = [
    // Signature wrapping (XSW) variants.
    [
      'XSW: the signed assertion moved into an evil one',
      () => xsw(`<saml:Advice>${signed()}</saml:Advice>`),
      'invalid_grant',
      /exactly one Assertion/,
    ],
    [
      'XSW: the signed assertion copied into an evil one with its signature',
      () => withSignature(xsw(`<x:Ext xmlns:x="urn:x">${renamed(signed())}</x:Ext>`), signatureOf(signed())),
      'invalid_grant',
      /one enveloped signature over the Assertion by its ID/,
    ],
    [
      'XSW: the evil root takes the signed ID, the signed copy keeps it too',
      () =>
        withSignature(
          assertionXml({ nameId: 'admin@example.test', signature: null }),
          signatureOf(signed()),
        ).replace(
          '</saml:Assertion>',
          `<x:Ext xmlns:x="urn:x">${renamed(signed())}</x:Ext></saml:Assertion>`,
        ),
      'invalid_grant',
      /one enveloped signature/,
    ],
    [
      'XSW: the evil root takes the signed ID and signature',
      () =>
        withSignature(assertionXml({ nameId: 'admin@example.test', signature: null }), signatureOf(signed())),
      'invalid_grant',
      /does not verify/,
    ],
    [
      'XSW: two assertions in one document',
      () =>
        `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol">${signed()}${signed({ id: '_two' })}</samlp:Response>`,
      'invalid_grant',
      /not a SAML 2.0 Assertion/,
    ],
    [
      'XSW: the signature moved below the assertion',
      () => {
        const s = signed();
        return s.replace(SIGNATURE, '').replace('</saml:Subject>', `${signatureOf(s)}</saml:Subject>`);
      },
      'invalid_grant',
      /one enveloped signature/,
    ],
    [
      'XSW: a second signature beside the first',
      () => {
        const s = signed();
        return s.replace('</saml:Subject>', `</saml:Subject>${signatureOf(s)}`);
      },
      'invalid_grant',
      /one enveloped signature/,
    ],
    ['content changed after signing', tamperedNameId, 'invalid_grant', /does not verify/],
    [
      'a comment inside NameID (CVE-2017-11427)',
      () =>
        signed({ nameId: 'provisioner@example.test.evil.test' }).replace(
          'example.test.evil',
          'example.test<!---->.evil',
        ),
      'invalid_grant',
      /comments/,
    ],
    ['an unsigned assertion', () => assertionXml({ signature: null }), 'invalid_grant', /not signed/],
    [
      'a signature by a key not in the metadata (its certificate in KeyInfo)',
      () => signed({}, attackerKey),
      'invalid_grant',
      /does not verify/,
    ],
    [
      'an issuer that is not trusted',
      () => signed({ issuer: 'https://other.example.test/' }),
      'invalid_grant',
      /not a trusted identity provider/,
    ],
    [
      'an Issuer with a non-entity Format',
      () =>
        signed().replace(
          '<saml:Issuer>',
          '<saml:Issuer Format="urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress">',
        ),
      'invalid_grant',
      /Format/,
    ],
    [
      'RSA-SHA1',
      () =>
        signed({
          signature: {
            signatureMethod: 'http://www.w3.org/2000/09/xmldsig#rsa-sha1',
            digestMethod: 'http://www.w3.org/2000/09/xmldsig#sha1',
          },
        }),
      'invalid_grant',
      /RSA-SHA256/,
    ],
    [
      'inclusive canonicalisation',
      () => signed({ signature: { c14n: 'http://www.w3.org/TR/2001/REC-xml-c14n-20010315' } }),
      'invalid_grant',
      /exclusive c14n/,
    ],
    [
      'a transform other than enveloped + exc-c14n',
      () =>
        signed({
          signature: {
            transforms: [
              'http://www.w3.org/2000/09/xmldsig#enveloped-signature',
              'http://www.w3.org/TR/2001/REC-xml-c14n-20010315',
            ],
          },
        }),
      'invalid_grant',
      /one enveloped signature/,
    ],
    [
      'an expired assertion',
      () => signed({ notOnOrAfter: iso(-120) }),
      'invalid_grant',
      /the assertion has expired/,
    ],
    ['an assertion not yet valid', () => signed({ notBefore: iso(120) }), 'invalid_grant', /not yet valid/],
    [
      'an expired subject confirmation',
      () => signed({ confirmationNotOnOrAfter: iso(-120) }),
      'invalid_grant',
      /subject confirmation has expired/,
    ],
    [
      'a wrong audience',
      () => signed({ audiences: ['https://other.example.test'] }),
      'invalid_grant',
      /audience/,
    ],
    [
      'a second restriction without our audience',
      () =>
        signed({
          extraConditions:
            '<saml:AudienceRestriction><saml:Audience>urn:other</saml:Audience></saml:AudienceRestriction>',
        }),
      'invalid_grant',
      /audience/,
    ],
    [
      'a wrong recipient',
      () => signed({ recipient: 'https://bridge.example.test/other' }),
      'invalid_grant',
      /Recipient/,
    ],
    ['no recipient', () => signed({ recipient: null }), 'invalid_grant', /Recipient/],
    [
      'no confirmation NotOnOrAfter',
      () => signed({ confirmationNotOnOrAfter: null }),
      'invalid_grant',
      /no NotOnOrAfter/,
    ],
    [
      'a holder-of-key confirmation only',
      () => signed({ method: 'urn:oasis:names:tc:SAML:2.0:cm:holder-of-key' }),
      'invalid_grant',
      /no bearer/,
    ],
    [
      'an unknown condition type',
      () =>
        signed({
          extraConditions:
            '<saml:Condition xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="saml:Custom"/>',
        }),
      'invalid_grant',
      /unsupported type/,
    ],
    [
      'a lifetime beyond the limit',
      () => signed({ notOnOrAfter: iso(7200), confirmationNotOnOrAfter: iso(7200) }),
      'invalid_grant',
      /longer than accepted/,
    ],
    [
      'an issue instant in the future',
      () => signed({ issueInstant: iso(600) }),
      'invalid_grant',
      /in the future/,
    ],
    [
      'a time that is not UTC',
      () => signed({ notOnOrAfter: '2026-12-05T13:00:00+01:00' }),
      'invalid_grant',
      /not a UTC dateTime/,
    ],
    ['an empty NameID', () => signed({ nameId: '' }), 'invalid_grant', /no NameID/],
    [
      'a DOCTYPE with an entity',
      () => `<!DOCTYPE saml:Assertion [<!ENTITY who "admin@example.test">]>${signed()}`,
      'invalid_grant',
      /document type declarations/,
    ],
    [
      'entity expansion (billion laughs)',
      () =>
        `<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>`,
      'invalid_grant',
      /document type declarations/,
    ],
    [
      'XML that is not well-formed',
      () => '<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><unclosed>',
      'invalid_grant',
      /not well-formed/,
    ],
  ];

  it.each(refusals)('refuses %s', async (_name, build, error, description) => {
    const result = await verify(build());
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error).toBe(error);
    expect(result.description).toMatch(description);
    // The description is ours: it never echoes the assertion.
    expect(result.description).not.toMatch(/example\.test|admin|provisioner|_assertion/);
  });

  it('the comment case is refused by the comment rule, not the signature: exc-c14n drops comments', () => {
    const xml = signed({ nameId: 'provisioner@example.test.evil.test' }).replace(
      'example.test.evil',
      'example.test<!---->.evil',
    );
    const root = parseStrictXml(xml).documentElement;
    expect(checkEnvelopedSignature(xml, root, [idpKey.certPem]).ok).toBe(true);
  });

  it('refuses an oversized assertion before decoding it', async () => {
    const result = await verifyBearerAssertion('A'.repeat(MAX_ENCODED_ASSERTION + 1), {
      policy,
      trust,
      replay: new MemoryReplayCache(),
      now: () => NOW,
    });
    expect(result).toMatchObject({
      ok: false,
      error: 'invalid_request',
      description: expect.stringMatching(/exceeds 65536/),
    });
  });

  it.each(['abc+/', 'abc def', 'a\nb'])('refuses a field that is not base64url: %j', async (field) => {
    const result = await verifyBearerAssertion(field, {
      policy,
      trust,
      replay: new MemoryReplayCache(),
      now: () => NOW,
    });
    expect(result).toMatchObject({ ok: false, error: 'invalid_request' });
  });

  it('refuses a replay of the same assertion, and claims the ID only once it is otherwise valid', async () => {
    const replay = new MemoryReplayCache(() => NOW);
    const xml = signed();
    await verify(xml.replace('provisioner@', 'x@'), replay); // refused: does not use up the ID
    expect(replay.size).toBe(0);
    expect((await verify(xml, replay)).ok).toBe(true);
    const again = await verify(xml, replay);
    expect(again).toMatchObject({
      ok: false,
      error: 'invalid_grant',
      description: 'the assertion has already been used',
    });
  });

  it('keeps the replay entry until the assertion expires (plus skew), not longer', async () => {
    let now = NOW;
    const replay = new MemoryReplayCache(() => now);
    const xml = signed({ notOnOrAfter: iso(100), confirmationNotOnOrAfter: iso(100) });
    expect((await verify(xml, replay)).ok).toBe(true);
    now = NOW + 159_000;
    expect(await replay.claim(IDP, '_assertion-1', 1000)).toBe(false);
    now = NOW + 161_000;
    expect(await replay.claim(IDP, '_assertion-1', 1000)).toBe(true);
  });
});
