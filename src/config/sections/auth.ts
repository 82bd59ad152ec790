/** The `auth` section of the configuration schema (see ../schema.ts for the conventions). */

export const auth = {
  type: 'object',
  description: 'Bearer tokens accepted from SCIM clients.',
  default: {},
  additionalProperties: false,
  properties: {
    tokens: {
      type: 'array',
      description:
        'Accepted bearer tokens, stored as SHA-256 hashes so the configuration holds no usable secret. ' +
        'Compute a hash with: printf \'%s\' "$TOKEN" | sha256sum. From the environment: a JSON array.',
      default: [],
      examples: [
        [
          {
            name: 'entra-id',
            sha256: '960f29b61344b0d104d0923282b6f044d38cb4d943818658b9f61747117d117e',
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
        'One plaintext bearer token, accepted and hashed at load (it joins auth.tokens under the name "auth.token"). ' +
        'Convenient for a single client; prefer auth.tokens or a *_FILE secret in production.',
    },
  },
} as const;
