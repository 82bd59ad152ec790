import { deflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { parseAuthnRequest } from '../../../src/localdev/idp-server.ts';

const encode = (xml: string) => deflateRawSync(Buffer.from(xml)).toString('base64');
const request = (id: string, acs: string, issuer = 'http://127.0.0.1:8080/saml') =>
  `<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="${id}" Version="2.0" AssertionConsumerServiceURL="${acs}"><saml:Issuer>${issuer}</saml:Issuer></samlp:AuthnRequest>`;

describe('the test IdP reads an AuthnRequest (HTTP-Redirect binding)', () => {
  it.each<[string, string, boolean]>([
    ['a loopback ACS', encode(request('_abc', 'http://127.0.0.1:8080/saml/acs')), true],
    ['localhost', encode(request('_abc', 'http://localhost:8080/saml/acs')), true],
    ['another host as ACS', encode(request('_abc', 'https://evil.example.test/acs')), false],
    ['an ID that is no xsd:ID', encode(request('1abc', 'http://127.0.0.1:8080/saml/acs')), false],
    ['not deflated', Buffer.from(request('_abc', 'http://127.0.0.1/acs')).toString('base64'), false],
    ['not an AuthnRequest', encode('<LogoutRequest ID="_a"/>'), false],
    ['nothing', '', false],
  ])('%s', (_name, field, accepted) => {
    const parsed = parseAuthnRequest(field);
    expect(parsed !== undefined).toBe(accepted);
    if (parsed) expect(parsed.id).toBe('_abc');
  });
});
