/** ldap.urls from the environment (a JSON list) and ldap.url: the servers the bridge uses, or the error. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/errors.ts';
import { configuredLdapServers, preferredWritableUrl } from '../../../src/config/ldap-servers.ts';
import { loadConfig } from '../../../src/config/load.ts';

const env = (values: Record<string, string | undefined>) => ({
  SCIM_BRIDGE_TOKEN: 'a-test-token-of-some-length',
  ...values,
});
const load = (values: Record<string, string | undefined>) =>
  loadConfig({ env: env(values), cwd: '/nonexistent-dir' });

describe('configured directory servers', () => {
  it.each([
    { name: 'nothing: the local default', values: {}, servers: [], writable: undefined },
    {
      name: 'ldap.url alone: one writable server',
      values: { SCIM_BRIDGE_LDAP_URL: 'ldap://a.example:389' },
      servers: [{ url: 'ldap://a.example:389', role: 'readWrite' }],
      writable: 'ldap://a.example:389',
    },
    {
      name: 'ldap.urls: roles as given, readWrite by default, order kept',
      values: {
        SCIM_BRIDGE_LDAP_URLS: JSON.stringify([
          { url: 'ldap://r.example', role: 'readOnly' },
          { url: 'ldaps://w.example:636' },
        ]),
      },
      servers: [
        { url: 'ldap://r.example', role: 'readOnly' },
        { url: 'ldaps://w.example:636', role: 'readWrite' },
      ],
      writable: 'ldaps://w.example:636',
    },
    {
      name: 'two writable servers (domain controllers): the first is preferred',
      values: {
        SCIM_BRIDGE_LDAP_URLS: JSON.stringify([
          { url: 'ldaps://dc1.example' },
          { url: 'ldaps://dc2.example' },
        ]),
      },
      servers: [
        { url: 'ldaps://dc1.example', role: 'readWrite' },
        { url: 'ldaps://dc2.example', role: 'readWrite' },
      ],
      writable: 'ldaps://dc1.example',
    },
  ])('$name', ({ values, servers, writable }) => {
    const config = load(values);
    expect(configuredLdapServers(config.ldap)).toEqual(servers);
    expect(preferredWritableUrl(config.ldap)).toBe(writable);
  });
});

describe('malformed server lists are refused with the setting and what was expected', () => {
  it.each([
    { name: 'not JSON', urls: 'ldap://a,ldap://b', message: 'ldap.urls' },
    { name: 'an empty list', urls: '[]', message: 'ldap.urls' },
    { name: 'a list of strings', urls: '["ldap://a.example"]', message: 'ldap.urls[0]' },
    { name: 'an entry without url', urls: '[{"role":"readWrite"}]', message: 'ldap.urls[0]' },
    { name: 'an http URL', urls: '[{"url":"http://a.example"}]', message: 'ldap.urls[0].url' },
    { name: 'a URL with a DN', urls: '[{"url":"ldap://a.example/dc=x"}]', message: 'ldap.urls[0].url' },
    {
      name: 'an unknown role',
      urls: '[{"url":"ldap://a.example","role":"primary"}]',
      message: 'ldap.urls[0].role',
    },
    { name: 'an unknown key', urls: '[{"url":"ldap://a.example","weight":2}]', message: 'ldap.urls[0]' },
    {
      name: 'no readWrite server',
      urls: '[{"url":"ldap://a.example","role":"readOnly"}]',
      message: 'has no server with role readWrite',
    },
    {
      name: 'the same server twice (case and trailing slash aside)',
      urls: '[{"url":"ldap://A.example/"},{"url":"ldap://a.example","role":"readOnly"}]',
      message: 'ldap.urls[1].url',
    },
  ])('$name', ({ urls, message }) => {
    expect(() => load({ SCIM_BRIDGE_LDAP_URLS: urls })).toThrow(ConfigError);
    expect(() => load({ SCIM_BRIDGE_LDAP_URLS: urls })).toThrow(message);
  });

  it('ldap.url and ldap.urls together', () => {
    expect(() =>
      load({
        SCIM_BRIDGE_LDAP_URL: 'ldap://a.example',
        SCIM_BRIDGE_LDAP_URLS: '[{"url":"ldap://b.example"}]',
      }),
    ).toThrow('cannot be combined with ldap.url');
  });

  it('an ldaps:// server with ldap.startTls', () => {
    expect(() =>
      load({
        SCIM_BRIDGE_LDAP_START_TLS: 'true',
        SCIM_BRIDGE_LDAP_URLS: '[{"url":"ldap://a.example"},{"url":"ldaps://b.example"}]',
      }),
    ).toThrow('ldap.urls[1].url');
  });
});
