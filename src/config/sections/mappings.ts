/** The `mappings` section of the configuration schema (see ../schema.ts for the conventions). */

export const mappings = {
  type: 'object',
  description: 'Declarative SCIM <-> LDAP attribute mappings.',
  default: {},
  additionalProperties: false,
  properties: {
    dir: {
      type: 'string',
      minLength: 1,
      'x-path': true,
      description: 'Directory holding the mapping YAML files.',
      default: 'mappings/openldap',
      examples: ['mappings/activedirectory', '/etc/scim-bridge/mappings'],
    },
    watch: {
      type: 'boolean',
      description: 'Reload the mappings when a file changes; an invalid change keeps the last good mapping.',
      default: true,
    },
  },
} as const;
