/**
 * `npm run bench -- --grant`: the SAML 2.0 bearer assertion grant (RFC 7522) and what a token
 * costs afterwards. The bridge runs in this process on its local default (slapd, Redis); the IdP
 * is a key made with openssl, its assertions signed with xmlsec1 before the timed loops (the
 * fixture signer of test/unit/auth). Prints, for c=1 and c=8:
 *  - POST /oauth/token (a fresh assertion each time: the replay cache refuses a second use),
 *  - GET /Users/{id} with a static token, and with an issued token (same scopes), so the cost per
 *    SCIM request of a SAML-derived token is next to a static one's. Asserts nothing.
 * Loopback only; every loop is bounded by a count and a duration.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { loadConfig } from '../src/config/index.ts';
import { startBridge } from '../src/main.ts';
import { assertionXml, b64url, metadataXml, Signer, SP, TOKEN_URL } from '../test/unit/auth/saml-fixtures.ts';
import { argValue, fmt, httpClient, measure } from './measure.ts';

const GRANTS = argValue('--grants', 300);
const GETS = argValue('--gets', 3000);
const SECONDS = 20;
const CONCURRENCY = [1, 8];

function signedAssertions(signer: Signer, key: ReturnType<Signer['key']>, count: number): string[] {
  const at = (s: number) => new Date(Date.now() + s * 1000).toISOString();
  return Array.from({ length: count }, (_, i) =>
    b64url(
      signer.sign(
        assertionXml({
          id: `_bench-${i}-${randomBytes(4).toString('hex')}`,
          issueInstant: at(0),
          notBefore: at(-30),
          notOnOrAfter: at(900),
          confirmationNotOnOrAfter: at(900),
        }),
        key,
      ),
    ),
  );
}

async function postForm(url: string, form: Record<string, string>): Promise<{ status: number; body: any }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form),
  });
  return { status: response.status, body: await response.json() };
}

export async function runGrant(): Promise<void> {
  const signer = new Signer();
  const key = signer.key('bench-idp');
  const metadataFile = path.join(signer.dir, 'idp.xml');
  writeFileSync(metadataFile, metadataXml({ keys: [{ cert: key.certBase64, use: 'signing' }] }));
  const token = randomBytes(18).toString('base64url');
  const cacheMs = argValue('--cache-ms', 0);
  const config = loadConfig({
    env: {
      SCIM_BRIDGE_TOKEN: token,
      SCIM_BRIDGE_SERVER_PORT: '0',
      SCIM_BRIDGE_LOG_LEVEL: 'silent',
      SCIM_BRIDGE_AUTH_SAML_ENTITY_ID: SP,
      SCIM_BRIDGE_AUTH_SAML_TOKEN_ENDPOINT_URL: TOKEN_URL,
      SCIM_BRIDGE_AUTH_ISSUED_TOKENS_CACHE_MS: String(cacheMs),
      SCIM_BRIDGE_AUTH_SAML_TRUSTED_IDPS: JSON.stringify([
        {
          name: 'bench-idp',
          metadataFile,
          scopeRules: [{ attribute: 'groups', equals: 'scim-provisioners', scopes: ['admin'] }],
        },
      ]),
    },
  });
  const bridge = await startBridge({ config });
  try {
    const t0 = performance.now();
    const fields = signedAssertions(signer, key, GRANTS * CONCURRENCY.length + 1);
    console.log(
      `grant benchmark: bridge ${bridge.url}, node ${process.version}, issued-token cache ${cacheMs} ms; ` +
        `${fields.length} assertions signed with xmlsec1 in ${((performance.now() - t0) / 1000).toFixed(1)} s (untimed)`,
    );
    const tokenUrl = `${bridge.url}/oauth/token`;
    const grantType = 'urn:ietf:params:oauth:grant-type:saml2-bearer';
    const first = await postForm(tokenUrl, { grant_type: grantType, assertion: fields.pop() as string });
    if (first.status !== 200)
      throw new Error(`the grant answered ${first.status}: ${JSON.stringify(first.body)}`);
    const issued = String(first.body.access_token);
    const staticClient = httpClient(bridge.baseUrl, token);
    const issuedClient = httpClient(bridge.baseUrl, issued);
    const alice = await staticClient.request('GET', '/Users?filter=userName%20eq%20%22alice%22');
    const id = String(JSON.parse(alice.text).Resources[0].id);
    for (const concurrency of CONCURRENCY) {
      const grant = await measure(GRANTS, concurrency, SECONDS, async () => {
        const r = await postForm(tokenUrl, { grant_type: grantType, assertion: fields.pop() as string });
        if (r.status !== 200) throw new Error(`grant ${r.status}: ${JSON.stringify(r.body)}`);
      });
      console.log(`POST /oauth/token (grant)        c=${String(concurrency).padEnd(2)} ${fmt(grant)}`);
      for (const [name, client] of [
        ['static token', staticClient],
        ['issued token', issuedClient],
      ] as const) {
        const figure = await measure(GETS, concurrency, SECONDS, async () => {
          const r = await client.request('GET', `/Users/${id}`);
          if (r.status !== 200) throw new Error(`GET ${r.status}`);
        });
        console.log(`GET /Users/{id} ${name.padEnd(16)} c=${String(concurrency).padEnd(2)} ${fmt(figure)}`);
      }
    }
    staticClient.close();
    issuedClient.close();
  } finally {
    await bridge.stop();
    signer.cleanup();
  }
}
