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
  },
} as const;
