/** The `ldap` section of the configuration schema (see ../schema.ts for the conventions). */
import { millis } from '../formats.ts';

export const ldap = {
  type: 'object',
  description: 'The directory the bridge writes to and reads from.',
  default: {},
  additionalProperties: false,
  properties: {
    url: {
      type: 'string',
      format: 'ldap-url',
      description:
        'Directory server URL. When absent, the local-development default starts a throwaway slapd on a free port.',
      examples: ['ldap://ldap.example.com:389', 'ldaps://dc1.example.com:636'],
    },
    bindDn: {
      type: 'string',
      minLength: 1,
      description:
        'Identity the bridge binds as (simple bind). Active Directory also accepts user@domain. Requires bindPassword.',
      examples: ['cn=scim-bridge,ou=services,dc=example,dc=com', 'scim-bridge@example.com'],
    },
    bindPassword: {
      type: 'string',
      minLength: 1,
      'x-secret': true,
      description: 'Password for bindDn.',
    },
    startTls: {
      type: 'boolean',
      description: 'Upgrade an ldap:// connection with StartTLS (RFC 4511 §4.14). Not with ldaps:// URLs.',
      default: false,
    },
    tls: {
      type: 'object',
      description: 'TLS settings for ldaps:// and StartTLS.',
      default: {},
      additionalProperties: false,
      properties: {
        caFile: {
          type: 'string',
          minLength: 1,
          'x-path': true,
          description:
            'PEM file with the CA certificate(s) to trust for the directory, instead of the system store.',
          examples: ['/etc/ssl/certs/directory-ca.pem'],
        },
        rejectUnauthorized: {
          type: 'boolean',
          description: "Verify the directory's certificate. Only turn off for experiments.",
          default: true,
        },
        serverName: {
          type: 'string',
          minLength: 1,
          description:
            "Host name expected in the directory's certificate (SNI), when it differs from the URL's host.",
          examples: ['dc1.example.com'],
        },
      },
    },
    poolSize: {
      type: 'integer',
      minimum: 1,
      maximum: 256,
      description: 'Number of bound connections kept open to the directory.',
      default: 4,
    },
    cursorSessions: {
      type: 'integer',
      minimum: 0,
      maximum: 256,
      description:
        'Paged searches (RFC 2696 cookies) kept open per instance to serve RFC 9865 cursor pages; each holds one extra directory connection. 0: every cursor page re-runs the query to its position.',
      default: 8,
    },
    cursorIdleMs: {
      ...millis,
      description:
        'A cursor session not continued within this time is closed (its next page is then re-run to its position).',
      default: 60_000,
    },
    sortedListReuseMs: {
      type: 'integer',
      minimum: 0,
      maximum: 3_600_000,
      description:
        "A sorted result the directory keeps after a VLV page (its contextID) answers further pages of the same query for this long, without searching and sorting again. Which entries are listed, and in what order, is then as of that first page; each entry's attributes are read fresh. Writes through this instance, and through any other instance sharing its Redis (write notices), discard every kept list. 0: every page sorts again.",
      default: 10_000,
    },
    sortedPagesPerConnection: {
      type: 'integer',
      minimum: 1,
      maximum: 1024,
      description:
        "Server-side sorts (sorted list pages) one directory connection may hold; set it to the directory's limit (OpenLDAP: sssvlv-maxperconn, default 5). More sorted pages at once wait for room instead of failing; a connection that has started this many VLV sorts (which OpenLDAP keeps until the connection closes) is retired after its operations finish and a fresh one takes its place.",
      default: 5,
    },
    connectTimeoutMs: {
      ...millis,
      description: 'Time allowed to open (and secure) a directory connection.',
      default: 5000,
    },
    operationTimeoutMs: {
      ...millis,
      description: 'Time allowed for one LDAP operation before it fails as unavailable.',
      default: 10_000,
    },
  },
} as const;
