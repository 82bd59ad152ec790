/**
 * The bridge's SP metadata: written by samlify, signed by xml-crypto when a key is configured, and
 * checked here by an independent verifier (xmlsec1), as an IdP administrator's tooling would.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { spMetadataXml } from '../../../src/auth/saml/sp-metadata.ts';
import { Signer } from './saml-fixtures.ts';

const signer = new Signer();
afterAll(() => signer.cleanup());

function xmlsecVerifies(xml: string, certFile: string): boolean {
  const file = path.join(signer.dir, `sp-${Math.random().toString(36).slice(2)}.xml`);
  writeFileSync(file, xml);
  try {
    execFileSync(
      'xmlsec1',
      [
        '--verify',
        '--pubkey-cert-pem',
        certFile,
        '--id-attr:ID',
        'urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor',
        file,
      ],
      { stdio: 'ignore' },
    );
    return true;
  } catch {
    return false;
  }
}

describe('SP metadata', () => {
  const entityId = 'https://bridge.example.test/saml';
  const acs = 'https://bridge.example.test/saml/acs';

  it('names the entityID and the ACS, unsigned without a key', () => {
    const xml = spMetadataXml({ entityId, assertionConsumerServiceUrl: acs });
    expect(xml).toContain(`entityID="${entityId}"`);
    expect(xml).toContain(`Location="${acs}"`);
    expect(xml).not.toContain('Signature');
  });

  it('is signed with the configured key: xmlsec1 verifies it, and refuses it once changed', () => {
    const key = signer.key('sp');
    const other = signer.key('other');
    const xml = spMetadataXml({
      entityId,
      assertionConsumerServiceUrl: acs,
      certificatePem: key.certPem,
      privateKeyPem: readFileSync(key.keyFile, 'utf8'),
    });
    expect(xml).toMatch(/^<EntityDescriptor[^>]*><(ds:)?Signature/);
    expect(xmlsecVerifies(xml, key.certFile)).toBe(true);
    expect(xmlsecVerifies(xml, other.certFile)).toBe(false);
    expect(xmlsecVerifies(xml.replace(acs, 'https://evil.example.test/acs'), key.certFile)).toBe(false);
  });
});
