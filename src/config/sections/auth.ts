/** The `auth` section of the configuration schema (see ../schema.ts for the conventions). */
import { millis } from '../formats.ts';

/**
 * A scope's form (RFC 6749 §3.3): `<resource>:read|write`, `bulk` or `admin`. Whether the
 * resource exists is checked against the mappings at start (auth/scopes.ts knownScopes).
 */
const scopeName = {
  type: 'string',
  pattern: '^(admin|bulk|[a-z0-9_.-]+:(read|write))$',
  'x-expected':
    '"<resource>:read", "<resource>:write" (resource = the endpoint in lower case), "bulk" or "admin"',
} as const;

const scopeRule = {
  type: 'object',
  additionalProperties: false,
  required: ['equals', 'scopes'],
  properties: {
    attribute: {
      type: 'string',
      minLength: 1,
      description: 'The assertion attribute (its Name) whose values are compared, e.g. groups or roles.',
    },
    nameId: { type: 'boolean', description: 'Compare the NameID instead of an attribute.' },
    equals: { type: 'string', minLength: 1, description: 'The exact value that earns the scopes.' },
    scopes: { type: 'array', minItems: 1, items: scopeName, description: 'The scopes it earns.' },
  },
} as const;

const trustedIdp = {
  type: 'object',
  additionalProperties: false,
  required: ['name', 'scopeRules'],
  properties: {
    name: { type: 'string', minLength: 1, description: 'Name of the IdP in logs, /ready and the CLI.' },
    metadataUrl: {
      type: 'string',
      format: 'http-url',
      description:
        'Where its SAML 2.0 metadata is fetched (and refreshed). http: needs a pinned certificate.',
    },
    metadataFile: {
      type: 'string',
      minLength: 1,
      description: 'A file holding its metadata (relative to the working directory); re-read on refresh.',
    },
    metadataSigningCertificate: {
      type: 'string',
      minLength: 1,
      description:
        'PEM certificate (or a file holding it) that must have signed the metadata: a pinned trust anchor.',
    },
    entityId: {
      type: 'string',
      minLength: 1,
      description: 'When set, the metadata must describe this entityID.',
    },
    scopeRules: {
      type: 'array',
      items: scopeRule,
      description:
        'Which scopes an assertion of this IdP earns: the union of every matching rule. No match: no token.',
    },
  },
} as const;

const saml = {
  type: 'object',
  description:
    'SAML 2.0 trust: identity providers known by their metadata, whose assertions earn short-lived ' +
    'access tokens at POST /oauth/token (RFC 7522). Off while entityId is unset.',
  default: {},
  additionalProperties: false,
  properties: {
    entityId: {
      type: 'string',
      minLength: 1,
      description: "The bridge's SAML entityID: an acceptable Audience, and the SP metadata's entityID.",
    },
    tokenEndpointUrl: {
      type: 'string',
      format: 'http-url',
      description:
        'The public URL of POST /oauth/token: the required Recipient and an acceptable Audience (RFC 7522 §3). ' +
        'Default: the origin of server.publicBaseUrl + /oauth/token.',
      examples: ['https://scim.example.com/oauth/token'],
    },
    clockSkewSeconds: {
      type: 'integer',
      minimum: 0,
      maximum: 600,
      default: 60,
      description: 'Allowed clock difference with an IdP, applied to every time check of an assertion.',
    },
    maxAssertionLifetimeSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 3600,
      description: 'Assertions valid for longer than this from now are refused (RFC 7522 §3 item 5).',
    },
    metadataRefreshSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 604_800,
      default: 3600,
      description: "Time between metadata refreshes (an IdP's shorter cacheDuration wins).",
    },
    metadataRetrySeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 60,
      description: 'Time before the next try after a failed refresh; the last good metadata stays in force.',
    },
    metadataFetchTimeoutMs: { ...millis, default: 10_000, description: 'Timeout of one metadata fetch.' },
    sessionTtlSeconds: {
      type: 'integer',
      minimum: 60,
      maximum: 604_800,
      default: 28_800,
      description:
        'Longest life of an admin console session opened by SP-initiated Web SSO (/saml/login, /saml/acs); admin.sessionMaxSeconds and admin.sessionIdleSeconds apply too.',
    },
    spCertificateFile: {
      type: 'string',
      'x-path': true,
      examples: ['/etc/scim-ldap-bridge/sp.crt'],
      description: "PEM certificate published in the bridge's SP metadata (/saml/metadata).",
    },
    spPrivateKeyFile: {
      type: 'string',
      'x-path': true,
      examples: ['/etc/scim-ldap-bridge/sp.key'],
      description: 'PEM private key of spCertificateFile: when set, /saml/metadata is signed with it.',
    },
    trustedIdps: {
      type: 'array',
      default: [],
      items: trustedIdp,
      description: 'The trusted identity providers. From the environment: a JSON array.',
      examples: [
        [
          {
            name: 'corp-idp',
            metadataUrl: 'https://idp.example.com/metadata.xml',
            scopeRules: [
              { attribute: 'groups', equals: 'scim-provisioners', scopes: ['users:write', 'groups:write'] },
            ],
          },
        ],
      ],
    },
  },
} as const;

const issuedTokens = {
  type: 'object',
  description: 'Access tokens issued at POST /oauth/token: stored hashed in Redis, valid on every instance.',
  default: {},
  additionalProperties: false,
  properties: {
    ttlSeconds: {
      type: 'integer',
      minimum: 1,
      maximum: 86_400,
      default: 600,
      description: 'Lifetime of an issued access token.',
    },
    cacheMs: {
      type: 'integer',
      minimum: 0,
      maximum: 60_000,
      default: 0,
      description:
        'How long an instance may reuse a token it looked up in Redis before asking again (0: ask every time). ' +
        'A revocation reaches every instance at once through Redis pub/sub; this bounds the staleness if that message is lost.',
    },
  },
} as const;

export const auth = {
  type: 'object',
  description: 'How SCIM clients authenticate: static bearer tokens, and tokens granted for SAML assertions.',
  default: {},
  additionalProperties: false,
  properties: {
    tokens: {
      type: 'array',
      description:
        'Accepted bearer tokens, stored as SHA-256 hashes so the configuration holds no usable secret. ' +
        'Compute a hash with: printf \'%s\' "$TOKEN" | sha256sum. From the environment: a JSON array. ' +
        'Re-read without a restart on SIGHUP.',
      default: [],
      examples: [
        [
          {
            name: 'entra-id',
            sha256: '960f29b61344b0d104d0923282b6f044d38cb4d943818658b9f61747117d117e',
            scopes: ['users:write', 'groups:write'],
          },
        ],
      ],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'sha256'],
        properties: {
          name: {
            type: 'string',
            minLength: 1,
            description: 'Name of the client; used as the principal in logs and events.',
          },
          sha256: {
            type: 'string',
            pattern: '^[0-9A-Fa-f]{64}$',
            'x-expected': 'exactly 64 hexadecimal characters (the SHA-256 of the token)',
            description: 'Hex SHA-256 of the token.',
          },
          scopes: {
            type: 'array',
            minItems: 1,
            items: scopeName,
            default: ['admin'],
            description: 'What the client may do (write implies read; admin is everything).',
          },
          expiresAt: {
            type: 'string',
            pattern: '^\\d{4}-\\d{2}-\\d{2}T\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?(Z|[+-]\\d{2}:\\d{2})$',
            'x-expected': 'an RFC 3339 date-time such as 2027-01-31T00:00:00Z',
            description: 'After this instant the token is refused.',
          },
          patchResponse: {
            enum: [200, 204],
            'x-expected': '200 or 204',
            description:
              "This client's answer to a successful PATCH, over the mapping's patchResponse (RFC 7644 §3.5.2 allows " +
              "both): Microsoft's Entra ID validator expects 204 after a user PATCH, while Okta reads the 200 body. " +
              'A PATCH with `attributes` is always answered 200 with the resource.',
          },
        },
      },
    },
    token: {
      type: 'string',
      minLength: 16,
      'x-secret': true,
      'x-env-aliases': ['SCIM_BRIDGE_TOKEN'],
      description:
        'One plaintext bearer token, accepted and hashed at load (it joins auth.tokens under the name "auth.token", scope admin). ' +
        'Convenient for a single client; prefer auth.tokens or a *_FILE secret in production.',
    },
    saml,
    issuedTokens,
  },
} as const;
