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
      description:
        'Time allowed for one LDAP operation before it fails as unavailable. With ldap.urls, keep it well below server.requestTimeoutMs: a server that stops answering is only noticed (and the request sent to another) after this long.',
      default: 10_000,
    },
    urls: {
      type: 'array',
      minItems: 1,
      maxItems: 16,
      description:
        'Several directory servers (replicas, domain controllers) instead of `url`, preferred in the order listed: reads go to the first one that is up, writes to the first `readWrite` one that is up (none up: writes get 503 while reads go on from the others). A server whose connection fails or breaks, or that does not answer within operationTimeoutMs, is marked down; reads in flight on it go again on another, writes only when they surely never reached it. A down server is probed in the background (probeInitialMs, doubling up to probeMaxMs) and taken back when it answers. List the writable one first: replicas may lag. bindDn, bindPassword and the TLS settings apply to every server. Not together with `url`. From the environment: a JSON array.',
      examples: [
        [
          { url: 'ldap://ldap1.example.com', role: 'readWrite' },
          { url: 'ldap://ldap2.example.com', role: 'readOnly' },
        ],
      ],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['url'],
        properties: {
          url: { type: 'string', format: 'ldap-url', description: "The server's URL." },
          role: {
            type: 'string',
            enum: ['readWrite', 'readOnly'],
            description:
              'readWrite: takes writes (a provider, a writable domain controller). readOnly: reads only (a syncrepl consumer, a read-only domain controller). Declared rather than detected: detection would cost a refused write on each replica. A readWrite server that answers a write with a referral is treated as read-only for that write, which goes to the next readWrite server.',
            default: 'readWrite',
          },
        },
      },
    },
    probeInitialMs: {
      ...millis,
      description:
        'With ldap.urls: a server marked down is probed (connect, bind, read its rootDSE) after this long, then at doubling intervals up to probeMaxMs, until it answers and is taken back.',
      default: 250,
    },
    probeMaxMs: {
      ...millis,
      description:
        'With ldap.urls: the longest interval between two probes of a server marked down; servers up are checked at this interval too, so an idle replica that died is seen before it is needed.',
      default: 5000,
    },
  },
} as const;
