/** The `feed` section of the configuration schema (see ../schema.ts for the conventions). */
import { millis } from '../formats.ts';

export const feed = {
  type: 'object',
  description:
    'Change feed from the directory itself (docs/architecture.md §Change feed): changes made directly in the directory (ldapmodify, an HR script) become the same events as SCIM writes, with origin "directory". ' +
    'OpenLDAP: read from the accesslog overlay (cn=accesslog); 389-DS: from the Retro Changelog (cn=changelog); Active Directory: uSNChanged polling. Runs in the processes that run delivery workers; one active consumer across all instances (a Redis lease). Needs events.enabled.',
  default: {},
  additionalProperties: false,
  properties: {
    enabled: {
      type: 'boolean',
      description: "Follow the directory's change log and publish its changes as events.",
      default: false,
    },
    source: {
      type: 'string',
      enum: ['auto', 'accesslog', 'retro-changelog', 'ad'],
      description:
        "Where the changes are read: `accesslog` (OpenLDAP's accesslog overlay), `retro-changelog` (389-DS's Retro Changelog plug-in, with `nsslapd-attribute: nsuniqueid:targetUniqueId`, the mapping's id attribute, and read access to cn=changelog for the bind account), `ad` (Active Directory: entries whose uSNChanged moved, deleted ones through the Show Deleted control), or `auto` (chosen from the directory's rootDSE).",
      default: 'auto',
    },
    logBase: {
      type: 'string',
      minLength: 1,
      description:
        'Suffix of the accesslog database (slapo-accesslog(5) logdb). The bind account must be able to read it. (The retro changelog is found through the rootDSE changeLog attribute.)',
      default: 'cn=accesslog',
    },
    pollIntervalMs: {
      ...millis,
      minimum: 10,
      description:
        'How often the active consumer asks the log for new changes (the floor of the delivery latency).',
      default: 250,
    },
    batchSize: {
      type: 'integer',
      minimum: 1,
      maximum: 999,
      description: 'Most log records read and published per poll.',
      default: 500,
    },
    settleWindowMs: {
      ...millis,
      description:
        'Log records are re-read this far behind the position, and the ones not yet seen are published: slapd writes a record when its operation ends, so a record may appear after a later one.',
      default: 2_000,
    },
    leaseTtlMs: {
      ...millis,
      minimum: 1_000,
      description:
        'Lifetime of the consumer lease (renewed at a third of it). Another instance takes over this long after the active consumer died.',
      default: 10_000,
    },
  },
} as const;
