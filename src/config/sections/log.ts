/** The `log` section of the configuration schema (see ../schema.ts for the conventions). */

export const log = {
  type: 'object',
  description: 'Logging (pino, JSON lines on stdout).',
  default: {},
  additionalProperties: false,
  properties: {
    level: {
      type: 'string',
      enum: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
      description: 'Least severe level written.',
      default: 'info',
    },
    pretty: {
      type: 'boolean',
      description: 'Human-readable multi-line output instead of JSON lines (development only).',
      default: false,
    },
  },
} as const;
