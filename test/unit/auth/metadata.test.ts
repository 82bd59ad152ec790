import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import {
  durationMs,
  fetchMetadata,
  MetadataError,
  parseIdpMetadata,
} from '../../../src/auth/saml/metadata.ts';
import { type IdpSource, TrustStore } from '../../../src/auth/saml/trust-store.ts';
import { IDP, METADATA_ID_ELEMENT, metadataXml, Signer } from './saml-fixtures.ts';

const signer = new Signer();
const current = signer.key('idp-current');
const next = signer.key('idp-next');
const encryption = signer.key('idp-encryption');
const pinned = signer.key('metadata-signer');
afterAll(() => signer.cleanup());

const simple = () => metadataXml({ keys: [{ cert: current.certBase64, use: 'signing' }] });
const signedMetadata = () =>
  signer.sign(
    metadataXml({ keys: [{ cert: current.certBase64 }], signed: true }),
    pinned,
    METADATA_ID_ELEMENT,
  );

describe('parseIdpMetadata', () => {
  it('reads the entityID, every signing key (rollover) and the validity', () => {
    const md = parseIdpMetadata(
      metadataXml({
        keys: [
          { cert: current.certBase64, use: 'signing' },
          { cert: next.certBase64 },
          { cert: encryption.certBase64, use: 'encryption' },
        ],
        validUntil: '2030-01-01T00:00:00Z',
        cacheDuration: 'PT6H',
      }),
    );
    expect(md.entityId).toBe(IDP);
    expect(md.signingCertificates.map((p) => p.replace(/-----[^-]+-----|\s/g, ''))).toEqual([
      current.certBase64,
      next.certBase64,
    ]);
    expect(md.validUntil).toEqual(new Date('2030-01-01T00:00:00Z'));
    expect(md.cacheDurationMs).toBe(6 * 3_600_000);
    expect(md.samlify.entityMeta.getEntityID()).toBe(IDP);
  });

  it('accepts metadata signed by the pinned certificate', () => {
    expect(parseIdpMetadata(signedMetadata(), { pinnedCertificatePem: pinned.certPem }).entityId).toBe(IDP);
  });

  it.each<[string, () => string, object, RegExp]>([
    [
      'unsigned metadata when a certificate is pinned',
      simple,
      { pinnedCertificatePem: pinned.certPem },
      /not signed/,
    ],
    [
      'metadata signed by another key',
      signedMetadata,
      { pinnedCertificatePem: current.certPem },
      /does not verify/,
    ],
    [
      'signed metadata changed afterwards',
      () => signedMetadata().replace('/sso', '/evil'),
      { pinnedCertificatePem: pinned.certPem },
      /does not verify/,
    ],
    [
      'another entityID than configured',
      simple,
      { entityId: 'https://other.example.test/' },
      /another entityID/,
    ],
    [
      'no signing key',
      () => metadataXml({ keys: [{ cert: encryption.certBase64, use: 'encryption' }] }),
      {},
      /no IdP signing certificate/,
    ],
    ['a broken certificate', () => metadataXml({ keys: [{ cert: 'AAAA' }] }), {}, /not a valid X.509/],
    [
      'a DOCTYPE',
      () => `<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>${simple()}`,
      {},
      /document type/,
    ],
    [
      'a root that is not an EntityDescriptor',
      () => '<md:EntitiesDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata"/>',
      {},
      /EntityDescriptor/,
    ],
    [
      'a validUntil that is not UTC',
      () => metadataXml({ keys: [{ cert: current.certBase64 }], validUntil: 'soon' }),
      {},
      /validUntil/,
    ],
  ])('refuses %s', (_name, build, expect_, message) => {
    expect(() => parseIdpMetadata(build(), expect_)).toThrow(message);
  });

  it('never puts key material in its errors', () => {
    try {
      parseIdpMetadata(metadataXml({ keys: [{ cert: `${current.certBase64}!!` }] }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(MetadataError);
      expect((error as Error).message).not.toContain(current.certBase64.slice(0, 20));
    }
  });

  it.each([
    ['PT6H', 21_600_000],
    ['P1D', 86_400_000],
    ['PT30M', 1_800_000],
    ['PT1.5S', 1500],
    ['P', undefined],
    ['PT', undefined],
    ['6h', undefined],
  ])('durationMs(%j) = %j', (text, ms) => {
    expect(durationMs(text)).toBe(ms);
  });
});

describe('fetchMetadata (loopback)', () => {
  let server: Server | undefined;
  afterEach(() => server?.close());

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<string> {
    server = createServer(handler);
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}/metadata`;
  }

  it('reads a 200 answer', async () => {
    const url = await serve((_req, res) => res.end(simple()));
    expect(parseIdpMetadata(await fetchMetadata(url, { timeoutMs: 2000 })).entityId).toBe(IDP);
  });

  it.each<[string, Parameters<typeof createServer>[1], RegExp]>([
    ['a non-200 answer', (_req, res) => res.writeHead(503).end('down'), /HTTP 503/],
    [
      'a redirect',
      (_req, res) => res.writeHead(302, { location: 'http://127.0.0.1:1/' }).end(),
      /fetch failed/,
    ],
    ['a body over the size bound', (_req, res) => res.end('x'.repeat(2048)), /too large/],
    ['no answer within the timeout', () => undefined, /timed out/],
  ])('refuses %s', async (_name, handler, message) => {
    const url = await serve(handler);
    await expect(fetchMetadata(url, { timeoutMs: 300, maxBytes: 1024 })).rejects.toThrow(message);
    server?.closeAllConnections();
  });
});

describe('TrustStore', () => {
  afterEach(() => vi.useRealTimers());

  function source(texts: (() => string | Error)[], extra: Partial<IdpSource> = {}): IdpSource {
    let call = 0;
    return {
      name: 'corp-idp',
      load: async () => {
        const next = texts[Math.min(call++, texts.length - 1)]!();
        if (next instanceof Error) throw next;
        return next;
      },
      ...extra,
    };
  }

  it('loads, trusts the signing keys and reports ready', async () => {
    const store = new TrustStore([source([simple])]);
    await store.start();
    store.stop();
    expect(store.ready).toBe(true);
    expect(store.signingCertificates(IDP)).toHaveLength(1);
    expect(store.metadata(IDP)?.name).toBe('corp-idp');
    expect(store.signingCertificates('https://unknown.example.test/')).toBeUndefined();
  });

  it('keeps the last good metadata when a refresh fails, and exposes the failure without key material', async () => {
    const warnings: unknown[] = [];
    const log = {
      info: () => undefined,
      warn: (fields: object, message: string) => warnings.push({ fields, message }),
    };
    const broken = () => metadataXml({ keys: [{ cert: `${current.certBase64}!!` }] });
    const store = new TrustStore(
      [source([simple, broken, () => Object.assign(new Error('x'), { code: 'ENOENT' })])],
      { log },
    );
    await store.start();
    await store.refreshAll();
    store.stop();
    expect(store.signingCertificates(IDP)).toHaveLength(1);
    expect(store.ready).toBe(true);
    const [status] = store.status();
    expect(status).toMatchObject({
      name: 'corp-idp',
      entityId: IDP,
      trusted: true,
      lastError: expect.stringMatching(/X.509/),
    });
    expect(JSON.stringify(warnings)).not.toContain(current.certBase64.slice(0, 20));
    expect(JSON.stringify(warnings)).toMatch(/keeping the last good metadata/);
  });

  it('is not ready while an IdP has no metadata, and names the cause', async () => {
    const store = new TrustStore([source([() => Object.assign(new Error('x'), { code: 'ENOENT' })])]);
    await store.start();
    store.stop();
    expect(store.ready).toBe(false);
    expect(store.status()[0]).toMatchObject({
      trusted: false,
      lastError: 'the metadata could not be read (ENOENT)',
    });
  });

  it('stops trusting metadata past its validUntil', async () => {
    let now = Date.parse('2029-12-31T23:00:00Z');
    const text = () =>
      metadataXml({ keys: [{ cert: current.certBase64 }], validUntil: '2030-01-01T00:00:00Z' });
    const store = new TrustStore([source([text])], { now: () => now });
    await store.start();
    store.stop();
    expect(store.signingCertificates(IDP)).toHaveLength(1);
    now = Date.parse('2030-01-01T00:00:01Z');
    expect(store.signingCertificates(IDP)).toBeUndefined();
    expect(store.ready).toBe(false);
  });

  it('refreshes on its own timer (cacheDuration wins over a longer interval), retries sooner after a failure, and stops', async () => {
    vi.useFakeTimers();
    const loads: string[] = [];
    const cached = () => metadataXml({ keys: [{ cert: current.certBase64 }], cacheDuration: 'PT10M' });
    const fail = () => new Error('down');
    const texts = [cached, fail, cached, cached];
    const store = new TrustStore(
      [
        source(
          texts.map((t) => () => {
            loads.push(t.name);
            return t();
          }),
        ),
      ],
      {
        refreshIntervalMs: 3_600_000,
        retryIntervalMs: 60_000,
      },
    );
    await store.start();
    expect(loads).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(10 * 60_000); // cacheDuration: refresh, which fails
    expect(loads).toEqual(['cached', 'fail']);
    await vi.advanceTimersByTimeAsync(60_000); // retry interval
    expect(loads).toEqual(['cached', 'fail', 'cached']);
    store.stop();
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(loads).toHaveLength(3);
  });

  it('refuses a second IdP with the same entityID', async () => {
    const store = new TrustStore([source([simple]), { ...source([simple]), name: 'copy' }]);
    await store.start();
    store.stop();
    expect(store.status()[1]).toMatchObject({
      name: 'copy',
      trusted: false,
      lastError: expect.stringMatching(/already/),
    });
  });
});
