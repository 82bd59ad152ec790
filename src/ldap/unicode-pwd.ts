/**
 * Active Directory passwords (MS-ADTS §3.1.1.3.1.5): `unicodePwd` is written as the password in
 * double quotes, encoded UTF-16LE, and only over an encrypted connection (AD answers
 * unwillingToPerform / confidentialityRequired otherwise). The mapping's `unicodePwd` transform
 * produces the quoted text; this adapter encodes it and refuses to put it on a plain connection.
 */
import type { DirValue } from '../ports/directory.ts';
import { RefusedError } from '../ports/errors.ts';

const UNICODE_PWD = 'unicodepwd';

export function isUnicodePwd(attribute: string): boolean {
  return attribute.toLowerCase() === UNICODE_PWD;
}

/**
 * The wire values of `attribute`: unchanged unless it is unicodePwd, whose quoted text values
 * become UTF-16LE bytes. Refused (nothing is sent) over a connection that is not encrypted, and
 * for text that is not quoted (mapped without the unicodePwd transform).
 */
export function wireValues(attribute: string, values: readonly DirValue[], encrypted: boolean): DirValue[] {
  if (!isUnicodePwd(attribute) || values.length === 0) return [...values];
  if (!encrypted) {
    throw new RefusedError(
      'unicodePwd (the Active Directory password) can only be written over an encrypted connection; ' +
        'the bridge refused to send it over plain ldap://: use an ldaps:// URL or ldap.startTls: true',
    );
  }
  return values.map((value) => {
    if (Buffer.isBuffer(value)) return value;
    if (value.length < 2 || !value.startsWith('"') || !value.endsWith('"')) {
      throw new RefusedError(
        'unicodePwd values must be the password in double quotes: map the password with transform: unicodePwd',
      );
    }
    return Buffer.from(value, 'utf16le');
  });
}
