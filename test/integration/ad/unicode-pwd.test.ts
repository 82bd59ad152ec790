/**
 * AD passwords: the `unicodePwd` transform (quoted text) and the LDAP adapter's wire encoding
 * (UTF-16LE, encrypted connections only). Needs no server: the refusal over plain ldap:// happens
 * before anything is sent. ad.test.ts sets and changes real passwords on Samba AD DC.
 */
import { describe, expect, it } from 'vitest';
import { createLdapDirectory } from '../../../src/ldap/index.ts';
import { wireValues } from '../../../src/ldap/unicode-pwd.ts';
import { TRANSFORMS, TransformError } from '../../../src/mapping/transforms.ts';
import { RefusedError } from '../../../src/ports/errors.ts';

const transform = TRANSFORMS.get('unicodePwd');

describe('unicodePwd transform', () => {
  it.each([
    ['S3cret!x', '"S3cret!x"'],
    ['with "quotes" inside', '"with "quotes" inside"'],
    ['pässwörd €', '"pässwörd €"'],
    ['x'.repeat(256), `"${'x'.repeat(256)}"`],
  ])('%j -> %j', (scim, ldap) => {
    expect(transform?.toLdap(scim)).toBe(ldap);
  });

  it.each([[''], [42], [null], [undefined], [true], [['a']], ['x'.repeat(257)]])('refuses %j', (value) => {
    expect(() => transform?.toLdap(value)).toThrow(TransformError);
  });

  it('has no read direction', () => {
    expect(() => transform?.fromLdap('"x"')).toThrow(/write-only/);
  });
});

describe('unicodePwd on the wire', () => {
  it('is the quoted text in UTF-16LE over an encrypted connection', () => {
    const [bytes] = wireValues('unicodePwd', ['"pä€"'], true);
    expect(bytes).toEqual(Buffer.from([0x22, 0, 0x70, 0, 0xe4, 0, 0xac, 0x20, 0x22, 0]));
    // Other attributes pass unchanged, whatever their name's case.
    expect(wireValues('userPassword', ['"x"'], false)).toEqual(['"x"']);
    expect(wireValues('UNICODEPWD', ['"x"'], true)).toEqual([Buffer.from('"x"', 'utf16le')]);
  });

  it('refuses unquoted text (mapped without the transform)', () => {
    expect(() => wireValues('unicodePwd', ['secret'], true)).toThrow(/transform: unicodePwd/);
  });

  it('a directory on plain ldap:// refuses to send a password: RefusedError before any connection', async () => {
    // Nothing listens on port 1: had the adapter tried to send, this would be UnavailableError.
    const directory = createLdapDirectory({
      url: 'ldap://127.0.0.1:1',
      poolSize: 1,
      connectTimeoutMs: 500,
      operationTimeoutMs: 500,
    });
    try {
      const modify = directory.modify('CN=a,CN=Users,DC=example,DC=test', [
        { operation: 'replace', attribute: 'unicodePwd', values: ['"S3cret!x"'] },
      ]);
      await expect(modify).rejects.toBeInstanceOf(RefusedError);
      await expect(modify).rejects.toThrow(/encrypted connection.*ldaps:\/\//);
      const add = directory.add('CN=a,CN=Users,DC=example,DC=test', {
        objectClass: ['user'],
        unicodePwd: ['"S3cret!x"'],
      });
      await expect(add).rejects.toBeInstanceOf(RefusedError);
    } finally {
      await directory.close();
    }
  });
});
