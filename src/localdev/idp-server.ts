/**
 * A browser-usable SAML IdP on loopback, for trying the admin console's Web SSO locally and for
 * the browser tests: it answers SP-initiated SSO (SAML profiles §4.1). GET /sso takes the
 * AuthnRequest by the HTTP-Redirect binding (bindings §3.4: deflated, base64), shows a small
 * "sign in as" form, and POST /sso answers with a page whose form posts a signed Response (the
 * HTTP-POST binding, bindings §3.5) with InResponseTo, Destination, Recipient and Audience taken
 * from the request. Assertions are signed by idp.ts (openssl key, xmlsec1), nothing is shared with
 * the bridge's verifier. It signs in anyone: never expose it beyond loopback.
 *
 *   node src/localdev/idp-server.ts [PORT]    serves http://127.0.0.1:PORT, metadata in .local-idp/
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { inflateRawSync } from 'node:zlib';
import { initLocalIdp, LOCAL_IDP_ENTITY_ID, type LocalIdpFiles, signedAssertion } from './idp.ts';

export interface IdpServer {
  /** http://127.0.0.1:PORT */
  readonly url: string;
  readonly files: LocalIdpFiles;
  stop(): Promise<void>;
}

interface AuthnRequest {
  readonly id: string;
  readonly acsUrl: string;
  readonly spEntityId: string;
}

const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** Only loopback ACS URLs: this IdP signs anyone in, so it answers nothing else. */
function loopbackUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return /^https?:$/.test(url.protocol) && ['127.0.0.1', 'localhost', '[::1]'].includes(url.hostname);
  } catch {
    return false;
  }
}

function attributeOf(xml: string, name: string): string | undefined {
  return new RegExp(`\\s${name}="([^"]*)"`).exec(xml)?.[1];
}

/** The request's ID, ACS and issuer, or undefined when it is not an AuthnRequest we can answer. */
export function parseAuthnRequest(samlRequest: string): AuthnRequest | undefined {
  let xml: string;
  try {
    xml = inflateRawSync(Buffer.from(samlRequest, 'base64'), { maxOutputLength: 64 * 1024 }).toString('utf8');
  } catch {
    return undefined;
  }
  if (!/<(\w+:)?AuthnRequest[\s>]/.test(xml)) return undefined;
  const id = attributeOf(xml, 'ID');
  const acsUrl = attributeOf(xml, 'AssertionConsumerServiceURL');
  const spEntityId = /<(?:\w+:)?Issuer[^>]*>([^<]+)<\/(?:\w+:)?Issuer>/.exec(xml)?.[1];
  if (!id || !/^[A-Za-z_][\w.-]*$/.test(id) || !acsUrl || !spEntityId || !loopbackUrl(acsUrl))
    return undefined;
  return { id, acsUrl, spEntityId };
}

function page(res: ServerResponse, status: number, title: string, body: string): void {
  res.writeHead(status, {
    'Content-Type': 'text/html; charset=utf-8',
    'Cache-Control': 'no-store',
    'Content-Security-Policy': "default-src 'none'; form-action http: https:; base-uri 'none'",
  });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">` +
      `<title>${escapeHtml(title)}</title></head><body><main><h1>${escapeHtml(title)}</h1>${body}</main></body></html>`,
  );
}

const hidden = (name: string, value: string) =>
  `<input type="hidden" name="${name}" value="${escapeHtml(value)}">`;

function signInForm(res: ServerResponse, request: AuthnRequest, relayState: string): void {
  page(
    res,
    200,
    'Local test IdP',
    `<p>The SP <code>${escapeHtml(request.spEntityId)}</code> asks who you are. This IdP signs in anyone.</p>` +
      `<form method="post" action="/sso">${hidden('id', request.id)}${hidden('acs', request.acsUrl)}` +
      `${hidden('sp', request.spEntityId)}${hidden('RelayState', relayState)}` +
      '<p><label for="nameId">Sign in as (NameID)</label><br><input id="nameId" name="nameId" value="admin@example.test" required></p>' +
      '<p><label for="groups">Groups (comma-separated)</label><br><input id="groups" name="groups" value="scim-admins"></p>' +
      '<p><button type="submit">Sign in</button></p></form>',
  );
}

/** The Response around the signed assertion (profiles §4.1.4.2). */
function responseXml(request: AuthnRequest, assertionXml: string): string {
  const now = new Date().toISOString();
  return (
    `<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" ID="_r${randomBytes(16).toString('hex')}" ` +
    `Version="2.0" IssueInstant="${now}" Destination="${escapeHtml(request.acsUrl)}" InResponseTo="${request.id}">` +
    `<saml:Issuer xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion">${LOCAL_IDP_ENTITY_ID}</saml:Issuer>` +
    '<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>' +
    `${assertionXml}</samlp:Response>`
  );
}

function answer(res: ServerResponse, files: LocalIdpFiles, form: URLSearchParams): void {
  const request = {
    id: form.get('id') ?? '',
    acsUrl: form.get('acs') ?? '',
    spEntityId: form.get('sp') ?? '',
  };
  const nameId = (form.get('nameId') ?? '').trim();
  if (!/^[A-Za-z_][\w.-]*$/.test(request.id) || !loopbackUrl(request.acsUrl) || nameId === '') {
    page(res, 400, 'Cannot answer', '<p>The form lost its request; start again at the SP.</p>');
    return;
  }
  const groups = (form.get('groups') ?? '')
    .split(',')
    .map((g) => g.trim())
    .filter(Boolean);
  const assertion = signedAssertion(files, {
    nameId,
    groups,
    audience: request.spEntityId,
    recipient: request.acsUrl,
  });
  const xml = responseXml(request, Buffer.from(assertion, 'base64url').toString('utf8'));
  page(
    res,
    200,
    'Signed in at the local test IdP',
    `<p>Signed in as <strong>${escapeHtml(nameId)}</strong>. Send the answer to the SP:</p>` +
      `<form method="post" action="${escapeHtml(request.acsUrl)}">${hidden('SAMLResponse', Buffer.from(xml).toString('base64'))}` +
      `${hidden('RelayState', form.get('RelayState') ?? '')}<button type="submit">Continue to the SP</button></form>`,
  );
}

async function bodyOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > 64 * 1024) throw new Error('form too large');
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

async function handle(files: LocalIdpFiles, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://127.0.0.1');
  if (req.method === 'GET' && url.pathname === '/sso') {
    const request = parseAuthnRequest(url.searchParams.get('SAMLRequest') ?? '');
    if (!request)
      return page(res, 400, 'Cannot answer', '<p>Expected an AuthnRequest for a loopback ACS.</p>');
    return signInForm(res, request, url.searchParams.get('RelayState') ?? '');
  }
  if (req.method === 'POST' && url.pathname === '/sso') return answer(res, files, await bodyOf(req));
  page(res, 404, 'Not found', '<p>This IdP answers /sso only.</p>');
}

/** Starts the IdP on 127.0.0.1 (`port` 0: a free one) with its key and metadata in `dir`. */
export async function startIdpServer(options: { dir: string; port?: number }): Promise<IdpServer> {
  const holder: { files?: LocalIdpFiles } = {};
  const server: Server = createServer((req, res) => {
    handle(holder.files as LocalIdpFiles, req, res).catch((error: Error) => {
      if (!res.headersSent) page(res, 500, 'IdP error', `<p>${escapeHtml(error.message)}</p>`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const url = `http://127.0.0.1:${address && typeof address === 'object' ? address.port : 0}`;
  holder.files = initLocalIdp(options.dir, `${url}/sso`);
  return {
    url,
    files: holder.files,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

async function main(argv: string[]): Promise<void> {
  const port = Number(argv[0] ?? '8090');
  const dir = path.resolve(process.env.LOCAL_IDP_DIR ?? '.local-idp');
  const idp = await startIdpServer({ dir, port });
  process.stdout.write(
    `Local test IdP: ${idp.url}/sso (signs in anyone; loopback only)\nMetadata:       ${idp.files.metadataFile}\n`,
  );
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main(process.argv.slice(2)).catch((error: Error) => {
    process.stderr.write(`idp-server: ${error.message}\n`);
    process.exit(1);
  });
}
