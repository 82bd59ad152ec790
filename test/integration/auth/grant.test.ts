/**
 * The SAML 2.0 bearer assertion grant (RFC 7522) end to end: assertions signed at test time by an
 * independent signer (openssl keys, xmlsec1 signatures: test/unit/auth/saml-fixtures.ts), the IdP
 * trusted through its metadata file, two bridge instances sharing one Redis. Grant -> token ->
 * SCIM call; a replay refused on the other instance; the hostile cases each refused with a clear
 * RFC 6749 error and logged without the assertion's content.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { inflateRawSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initLocalIdp, type LocalIdpFiles, signedAssertion } from '../../../src/localdev/idp.ts';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import {
  type AssertionOptions,
  assertionXml,
  b64url,
  IDP,
  metadataXml,
  missingSigner,
  Signer,
  SP,
  type TestKey,
  TOKEN_URL,
} from '../../unit/auth/saml-fixtures.ts';

const signer = new Signer();
let idpKey: TestKey;
let strangerKey: TestKey;
let a: TestBridge;
let b: TestBridge;
const logs: string[] = [];
let counter = 0;
let localIdp: LocalIdpFiles;

/** ISO instant `seconds` from the real now (the bridge checks against its own clock). */
const at = (seconds: number) => new Date(Date.now() + seconds * 1000).toISOString();

function assertion(options: AssertionOptions = {}, key: TestKey | null = idpKey): string {
  const xml = assertionXml({
    id: `_e2e-${++counter}`,
    issueInstant: at(-2),
    notBefore: at(-30),
    notOnOrAfter: at(120),
    confirmationNotOnOrAfter: at(120),
    ...(key ? {} : { signature: null }),
    ...options,
  });
  return key ? signer.sign(xml, key) : xml;
}

async function grant(bridge: TestBridge, field: string, extra: Record<string, string> = {}) {
  const response = await fetch(`${bridge.bridge.url}/oauth/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'urn:ietf:params:oauth:grant-type:saml2-bearer',
      assertion: field,
      ...extra,
    }),
  });
  return { status: response.status, headers: response.headers, body: (await response.json()) as any };
}

beforeAll(async () => {
  expect(missingSigner()).toEqual([]);
  idpKey = signer.key('e2e-idp');
  strangerKey = signer.key('e2e-stranger');
  const metadataFile = path.join(signer.dir, 'idp-metadata.xml');
  writeFileSync(metadataFile, metadataXml({ keys: [{ cert: idpKey.certBase64, use: 'signing' }] }));
  localIdp = initLocalIdp(path.join(signer.dir, 'local-idp'));
  const env = {
    SCIM_BRIDGE_AUTH_SAML_ENTITY_ID: SP,
    SCIM_BRIDGE_AUTH_SAML_TOKEN_ENDPOINT_URL: TOKEN_URL,
    SCIM_BRIDGE_AUTH_SAML_TRUSTED_IDPS: JSON.stringify([
      {
        name: 'e2e-idp',
        metadataFile,
        scopeRules: [
          { attribute: 'groups', equals: 'scim-provisioners', scopes: ['users:read'] },
          { nameId: true, equals: 'writer@example.test', scopes: ['users:write', 'groups:write'] },
        ],
      },
      {
        name: 'local-idp',
        metadataFile: localIdp.metadataFile,
        scopeRules: [{ attribute: 'groups', equals: 'scim-admins', scopes: ['admin'] }],
      },
    ]),
  };
  a = await startTestBridge({ env, logLines: logs });
  // The second instance shares the first one's Redis: the replay cache and issued tokens are shared.
  const redisUrl = a.bridge.local?.redis?.url;
  if (!redisUrl) throw new Error('the first bridge should run its own Redis');
  b = await startTestBridge({ env: { ...env, SCIM_BRIDGE_REDIS_URL: redisUrl }, logLines: logs });
});
afterAll(async () => {
  await b?.stop();
  await a?.stop();
  signer.cleanup();
});

describe('RFC 7522 grant, end to end', () => {
  it('trades a signed assertion for a scoped token that works on both instances', async () => {
    const answer = await grant(a, b64url(assertion()));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(answer.body).toMatchObject({ token_type: 'Bearer', expires_in: 600, scope: 'users:read' });
    const auth = { Authorization: `Bearer ${answer.body.access_token}` };
    expect((await a.request('GET', '/Users', undefined, auth)).status).toBe(200);
    expect((await b.request('GET', '/Users', undefined, auth)).status).toBe(200);
    const write = await b.request('POST', '/Users', { userName: 'via-saml' }, auth);
    expect(write.status).toBe(403);
    expect(write.headers.get('www-authenticate')).toContain('insufficient_scope');
    // The access log names the assertion's subject as the client.
    expect(logs.some((l) => l.includes('"client":"provisioner@example.test"'))).toBe(true);
  });

  it('grants by NameID too, and narrows to a requested scope', async () => {
    const answer = await grant(b, b64url(assertion({ nameId: 'writer@example.test', attributes: {} })), {
      scope: 'users:write',
    });
    expect(answer.status).toBe(200);
    expect(answer.body.scope).toBe('users:write');
  });

  it('refuses a replay of the same assertion on the other instance', async () => {
    const field = b64url(assertion());
    expect((await grant(a, field)).status).toBe(200);
    const replay = await grant(b, field);
    expect(replay.status).toBe(400);
    expect(replay.body.error).toBe('invalid_grant');
    expect(replay.body.error_description).toMatch(/already been used/);
  });

  it('accepts the local IdP that README tells newcomers to run (src/localdev/idp.ts)', async () => {
    const field = signedAssertion(localIdp, {
      nameId: 'newcomer@example.test',
      groups: ['scim-admins'],
      audience: SP,
      recipient: TOKEN_URL,
    });
    const answer = await grant(a, field);
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    expect(answer.body.scope).toBe('admin');
  });

  it('refuses an assertion whose subject earns no scope', async () => {
    const answer = await grant(a, b64url(assertion({ nameId: 'nobody@example.test', attributes: {} })));
    expect(answer.body.error).toBe('invalid_grant');
  });
});

describe('hostile assertions over HTTP', () => {
  const secretName = 'leak-canary@example.test';
  // [case, assertion field, status, error, what error_description says]
  const cases: [string, () => string, number, string, RegExp][] = [
    ['unsigned', () => b64url(assertion({ nameId: secretName }, null)), 400, 'invalid_grant', /not signed/],
    [
      'signed by a key not in the metadata',
      () => b64url(assertion({ nameId: secretName }, strangerKey)),
      400,
      'invalid_grant',
      /does not verify/,
    ],
    [
      'expired',
      () =>
        b64url(assertion({ nameId: secretName, notOnOrAfter: at(-600), confirmationNotOnOrAfter: at(-600) })),
      400,
      'invalid_grant',
      /expired/,
    ],
    [
      'not yet valid',
      () => b64url(assertion({ nameId: secretName, notBefore: at(600) })),
      400,
      'invalid_grant',
      /not yet valid/,
    ],
    [
      'for another audience',
      () => b64url(assertion({ nameId: secretName, audiences: ['https://other.example.test'] })),
      400,
      'invalid_grant',
      /audience/,
    ],
    [
      'for another recipient',
      () => b64url(assertion({ nameId: secretName, recipient: 'https://other.example.test/token' })),
      400,
      'invalid_grant',
      /Recipient/,
    ],
    [
      'with a comment inside NameID (CVE-2017-11427)',
      () => b64url(assertion({ nameId: `${secretName}<!---->.evil` })),
      400,
      'invalid_grant',
      /comments/,
    ],
    [
      'XSW: the signed assertion moved inside an evil one',
      () =>
        b64url(
          assertionXml({ id: '_evil', nameId: secretName, signature: null }).replace(
            '</saml:Subject>',
            `</saml:Subject><saml:Advice>${assertion()}</saml:Advice>`,
          ),
        ),
      400,
      'invalid_grant',
      /exactly one Assertion/,
    ],
    [
      'with a DOCTYPE (entity expansion)',
      () => b64url(`<!DOCTYPE x [<!ENTITY a "${secretName}">]>${assertion()}`),
      400,
      'invalid_grant',
      /document type/,
    ],
    ['of 10 MB', () => 'A'.repeat(10 * 1024 * 1024), 413, 'invalid_request', /exceeds/],
  ];

  it.each(cases)('refuses one %s, without logging its content', async (_name, build, status, error, says) => {
    const before = logs.length;
    const answer = await grant(a, build());
    expect(answer.status).toBe(status);
    expect(answer.body.error).toBe(error);
    expect(answer.body.error_description).toMatch(says);
    expect(answer.headers.get('cache-control')).toBe('no-store');
    const written = logs.slice(before).join('\n');
    expect(written).toContain('/oauth/token');
    expect(written).not.toContain(secretName);
    expect(written).not.toContain('PHNhbWw6');
  });

  it('answers RFC 6749 errors for a malformed request', async () => {
    const wrongType = await fetch(`${a.bridge.url}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: '{}',
    });
    expect(wrongType.status).toBe(400);
    expect(await wrongType.json()).toMatchObject({ error: 'invalid_request' });
    const other = await fetch(`${a.bridge.url}/oauth/token`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: 'grant_type=password&username=x&password=y',
    });
    expect(await other.json()).toMatchObject({ error: 'unsupported_grant_type' });
  });
});

describe('trust status and SP metadata', () => {
  it('/ready is ready with the metadata loaded', async () => {
    const ready = await fetch(`${a.bridge.url}/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { warnings?: string[] }).warnings ?? []).toEqual([]);
  });

  it('serves the SP metadata with the configured entityID', async () => {
    const r = await fetch(`${a.bridge.url}/saml/metadata`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/samlmetadata\+xml/);
    expect(await r.text()).toContain(`entityID="${SP}"`);
  });
});

describe('SP-initiated Web SSO (admin session)', () => {
  const ACS = new URL('/saml/acs', TOKEN_URL).href;

  async function login(bridge: TestBridge): Promise<string> {
    const r = await fetch(`${bridge.bridge.url}/saml/login?idp=e2e-idp`, { redirect: 'manual' });
    expect(r.status).toBe(302);
    const location = new URL(r.headers.get('location') ?? '');
    expect(`${location.origin}${location.pathname}`).toBe(`${IDP}/sso`);
    const request = inflateRawSync(
      Buffer.from(location.searchParams.get('SAMLRequest') ?? '', 'base64'),
    ).toString();
    expect(request).toContain('AuthnRequest');
    const id = /\bID="([^"]+)"/.exec(request)?.[1];
    if (!id) throw new Error('the AuthnRequest has no ID');
    return id;
  }

  function response(inResponseTo: string, options: AssertionOptions = {}): string {
    const xml =
      `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_resp-${++counter}" Version="2.0" ` +
      `IssueInstant="${at(0)}" Destination="${ACS}" InResponseTo="${inResponseTo}">` +
      `<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${IDP}</saml:Issuer>` +
      '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
      `${assertion({ recipient: ACS, ...options })}</samlp:Response>`;
    return Buffer.from(xml).toString('base64');
  }

  const post = (bridge: TestBridge, fields: Record<string, string>) =>
    fetch(`${bridge.bridge.url}/saml/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams(fields),
    });

  it('logs in through the IdP: the session cookie works on the other instance, once per request', async () => {
    const id = await login(a);
    const field = response(id);
    const answered = await post(b, { SAMLResponse: field, RelayState: '/saml/session' });
    expect(answered.status).toBe(303);
    expect(answered.headers.get('location')).toBe('/saml/session');
    const cookie = answered.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(
      /^__Host-scim_bridge_admin=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=\d+; Secure; HttpOnly; SameSite=Strict$/,
    );
    const session = await fetch(`${a.bridge.url}/saml/session`, {
      headers: { Cookie: cookie.split(';')[0] ?? '' },
    });
    expect(session.status).toBe(200);
    expect(await session.json()).toMatchObject({
      name: 'provisioner@example.test',
      issuer: IDP,
      scopes: ['users:read'],
    });
    expect((await post(a, { SAMLResponse: field })).status).toBe(400);
    const out = await fetch(`${b.bridge.url}/saml/logout`, {
      method: 'POST',
      headers: { Cookie: cookie.split(';')[0] ?? '' },
    });
    expect(out.status).toBe(204);
    expect(
      (await fetch(`${a.bridge.url}/saml/session`, { headers: { Cookie: cookie.split(';')[0] ?? '' } }))
        .status,
    ).toBe(401);
  });

  it.each<[string, () => Promise<Record<string, string>>, RegExp]>([
    [
      'an unsolicited Response',
      async () => ({ SAMLResponse: response('_never-requested') }),
      /pending login request/,
    ],
    [
      'an assertion for the token endpoint',
      async () => ({ SAMLResponse: response(await login(a), { recipient: TOKEN_URL }) }),
      /Recipient/,
    ],
    [
      'an unsigned assertion',
      async () => ({
        SAMLResponse: Buffer.from(
          Buffer.from(response(await login(a)), 'base64')
            .toString()
            .replace(/<ds:Signature[\s\S]*<\/ds:Signature>/, ''),
        ).toString('base64'),
      }),
      /not signed/,
    ],
    [
      'an open redirect in RelayState',
      async () => ({ SAMLResponse: response(await login(a)), RelayState: '//evil.example.test/' }),
      /^$/,
    ],
  ])('refuses %s', async (_name, fields, says) => {
    const r = await post(a, await fields());
    if (says.source === '^$') {
      // Logged in, but sent to the local default page, never to another site.
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toBe('/saml/session');
      return;
    }
    expect(r.status).toBe(400);
    expect(r.headers.get('set-cookie')).toBeNull();
    expect(((await r.json()) as { error: string }).error).toMatch(says);
  });
});

describe('when the metadata or Redis fail', () => {
  it('a failed metadata refresh keeps the last good metadata: /ready degraded, the grant still works', async () => {
    const trust = a.bridge.auth.trust;
    if (!trust) throw new Error('the bridge should trust an IdP');
    const metadataFile = path.join(signer.dir, 'idp-metadata.xml');
    const good = readFileSync(metadataFile, 'utf8');
    writeFileSync(metadataFile, '<not-metadata/>');
    try {
      await trust.refreshAll();
      const ready = await fetch(`${a.bridge.url}/ready`);
      expect(ready.status).toBe(200);
      const body = (await ready.json()) as { status: string; warnings: string[] };
      expect(body.status).toBe('degraded');
      expect(body.warnings.join('\n')).toMatch(
        /SAML IdP "e2e-idp": metadata refresh failed .*keeping the metadata/,
      );
      expect((await grant(a, b64url(assertion()))).status).toBe(200);
    } finally {
      writeFileSync(metadataFile, good);
      await trust.refreshAll();
    }
    expect(((await (await fetch(`${a.bridge.url}/ready`)).json()) as { status: string }).status).toBe(
      'ready',
    );
  });

  it('Redis down: the grant and issued tokens answer 503, static tokens still work', async () => {
    const issued = await grant(a, b64url(assertion()));
    expect(issued.status).toBe(200);
    const redis = a.bridge.local?.redis;
    if (!redis) throw new Error('the first bridge should run its own Redis');
    await redis.kill();
    try {
      const refused = await grant(a, b64url(assertion()));
      expect(refused.status).toBe(503);
      expect(refused.body.error).toBe('temporarily_unavailable');
      const withIssued = await a.request('GET', '/Users', undefined, {
        Authorization: `Bearer ${issued.body.access_token}`,
      });
      expect(withIssued.status).toBe(503);
      expect((await a.request('GET', '/ServiceProviderConfig')).status).toBe(200);
    } finally {
      await redis.restart();
    }
  });
});
