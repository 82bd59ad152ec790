/**
 * Value forms shared by settings of several sections: the custom string formats (registered with
 * ajv by load.ts) and the duration in milliseconds.
 */
import { isIP } from 'node:net';

/** Custom string formats: the validator, and the words used in error messages and documentation. */
export interface FormatSpec {
  /** Noun phrase for the message "<value> is not <noun>". */
  readonly noun: string;
  /** The expected form, for error messages and the reference. */
  readonly expected: string;
  readonly validate: (value: string) => boolean;
}

function parseUrl(value: string): URL | undefined {
  try {
    return new URL(value);
  } catch {
    return undefined;
  }
}

function validPort(port: string): boolean {
  return port === '' || (/^\d{1,5}$/.test(port) && Number(port) >= 1 && Number(port) <= 65535);
}

export const formats: Readonly<Record<string, FormatSpec>> = {
  'ldap-url': {
    noun: 'an LDAP URL',
    expected: 'ldap://host[:port] or ldaps://host[:port]',
    validate: (value) => {
      // No DN, attributes or extensions (RFC 4516): the bridge takes its base DNs from the mappings.
      const m = /^(ldaps?):\/\/(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+)(?::(\d+))?\/?$/.exec(value);
      return m !== null && validPort(m[3] ?? '');
    },
  },
  'redis-url': {
    noun: 'a Redis URL',
    expected: 'redis://[[user]:password@]host[:port][/db] or rediss://… (TLS)',
    validate: (value) => {
      const url = parseUrl(value);
      return (
        url !== undefined &&
        (url.protocol === 'redis:' || url.protocol === 'rediss:') &&
        url.hostname !== '' &&
        /^(\/\d*)?$/.test(url.pathname) &&
        url.hash === ''
      );
    },
  },
  'ip-range': {
    noun: 'an IP address or CIDR range',
    expected: 'an IPv4 or IPv6 address, optionally with /prefix-length, e.g. 10.0.0.0/8 or ::1',
    validate: (value) => {
      const [address = '', prefix, extra] = value.split('/');
      const family = isIP(address);
      if (family === 0 || extra !== undefined) return false;
      if (prefix === undefined) return true;
      return /^\d{1,3}$/.test(prefix) && Number(prefix) <= (family === 4 ? 32 : 128);
    },
  },
  'http-url': {
    noun: 'an absolute http(s) URL',
    expected: 'http(s)://host[:port][/path], without query, fragment or credentials',
    validate: (value) => {
      const url = parseUrl(value);
      return (
        url !== undefined &&
        (url.protocol === 'http:' || url.protocol === 'https:') &&
        url.hostname !== '' &&
        url.search === '' &&
        url.hash === '' &&
        url.username === '' &&
        url.password === '' &&
        !/[?#]/.test(value)
      );
    },
  },
};

/** A duration in milliseconds: at least 1 ms, at most a day. */
export const millis = { type: 'integer', minimum: 1, maximum: 86_400_000 } as const;
