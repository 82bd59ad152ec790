import { afterAll, describe, expect, it } from 'vitest';
import type { IssuedPrincipal } from '../../../src/auth/issued-tokens.ts';
import { SAML2_BEARER_GRANT_TYPE } from '../../../src/auth/saml/assertion.ts';
import { type GrantOptions, tokenRequest } from '../../../src/auth/saml/grant.ts';
import { MemoryReplayCache } from '../../../src/auth/saml/replay-cache.ts';
import { assertionXml, b64url, IDP, NOW, Signer, SP, TOKEN_URL } from './saml-fixtures.ts';

const signer = new Signer();
const idpKey = signer.key('idp');
afterAll(() => signer.cleanup());

function options(issued: { principal: IssuedPrincipal; scopes: readonly string[] }[] = []): GrantOptions {
  return {
    policy: { entityId: SP, tokenEndpointUrl: TOKEN_URL, clockSkewMs: 60_000, maxLifetimeMs: 3_600_000 },
    trust: {
      signingCertificates: (e) => (e === IDP ? [idpKey.certPem] : undefined),
      metadata: (e) => (e === IDP ? { name: 'corp' } : undefined),
    },
    replay: new MemoryReplayCache(() => NOW),
    tokens: {
      issue: async (principal, scopes, ttl) => {
        issued.push({ principal, scopes });
        return { token: 'T'.repeat(43), id: 'h', expiresIn: ttl };
      },
    },
    scopeRules: (name) =>
      name === 'corp'
        ? [{ attribute: 'groups', equals: 'scim-provisioners', scopes: ['users:write', 'groups:read'] }]
        : [],
    resourceEndpoints: ['/Users', '/Groups'],
    tokenTtlSeconds: 600,
    now: () => NOW,
  };
}

const assertion = (groups = ['scim-provisioners']) =>
  b64url(signer.sign(assertionXml({ attributes: { groups } }), idpKey));
const form = (extra: Record<string, string | string[]> = {}) => ({
  grant_type: SAML2_BEARER_GRANT_TYPE,
  assertion: assertion(),
  ...extra,
});

describe('POST /oauth/token (RFC 7522 grant)', () => {
  it('issues a bearer token with the scopes the rules grant, uncacheable', async () => {
    const issued: { principal: IssuedPrincipal; scopes: readonly string[] }[] = [];
    const answer = await tokenRequest(form(), undefined, options(issued));
    expect(answer).toEqual({
      status: 200,
      headers: { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
      body: {
        access_token: 'T'.repeat(43),
        token_type: 'Bearer',
        expires_in: 600,
        scope: 'groups:read users:write',
      },
      audit: { issuer: IDP, subject: 'provisioner@example.test', tokenId: 'h' },
    });
    expect(issued).toEqual([
      {
        principal: { name: 'provisioner@example.test', issuer: IDP },
        scopes: ['groups:read', 'users:write'],
      },
    ]);
  });

  it('narrows to the requested scopes (write covers read)', async () => {
    const answer = await tokenRequest(form({ scope: 'users:read' }), undefined, options());
    expect(answer.body.scope).toBe('users:read');
  });

  it.each<[string, Record<string, string | string[] | undefined>, string | undefined, number, string]>([
    ['no grant_type', { grant_type: undefined }, undefined, 400, 'invalid_request'],
    ['another grant type', { grant_type: 'client_credentials' }, undefined, 400, 'unsupported_grant_type'],
    ['no assertion', { assertion: undefined }, undefined, 400, 'invalid_request'],
    ['a repeated parameter', { scope: ['users:read', 'users:read'] }, undefined, 400, 'invalid_request'],
    ['a client secret', { client_secret: 's' }, undefined, 401, 'invalid_client'],
    ['HTTP Basic client authentication', {}, 'Basic YTpi', 401, 'invalid_client'],
    ['an unknown requested scope', { scope: 'users:delete' }, undefined, 400, 'invalid_scope'],
    ['a requested scope not granted', { scope: 'groups:write' }, undefined, 400, 'invalid_scope'],
    [
      'an invalid assertion',
      { assertion: b64url(assertionXml({ signature: null })) },
      undefined,
      400,
      'invalid_grant',
    ],
  ])('refuses %s', async (_name, extra, authorization, status, error) => {
    const answer = await tokenRequest(form(extra as Record<string, string>), authorization, options());
    expect(answer.status).toBe(status);
    expect(answer.body.error).toBe(error);
    expect(answer.headers['Cache-Control']).toBe('no-store');
    if (authorization) expect(answer.headers['WWW-Authenticate']).toMatch(/^Basic /);
  });

  it('refuses a valid assertion whose subject no rule grants a scope', async () => {
    const answer = await tokenRequest(form({ assertion: assertion(['staff']) }), undefined, options());
    expect(answer).toMatchObject({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'no scope is granted to this subject' },
    });
  });
});
