/** The `events` section of the configuration schema (see ../schema.ts for the conventions). */
import { millis } from '../formats.ts';

export const events = {
  type: 'object',
  description:
    'Change events: every committed write is journaled in Redis before the directory write and delivered at least once to the configured services (webhooks) by a BullMQ worker pool.',
  default: {},
  additionalProperties: false,
  properties: {
    enabled: {
      type: 'boolean',
      description:
        'Record every write in the change journal and publish its events. Off: no journal, no events, no Redis write per request.',
      default: false,
    },
    workersInProcess: {
      type: 'boolean',
      description:
        'Run the delivery workers inside the server process. Turn off when separate `scim-ldap-bridge worker` processes deliver.',
      default: true,
    },
    recoveryGraceMs: {
      ...millis,
      description:
        'Age after which a journaled intent that was neither committed nor aborted is settled against the directory (published when the write happened, discarded otherwise). Longer than any directory write may take.',
      default: 60_000,
    },
    recoveryIntervalMs: {
      ...millis,
      description: 'How often each instance looks for such intents (and once at start-up).',
      default: 15_000,
    },
    maxAttempts: {
      type: 'integer',
      minimum: 1,
      maximum: 1000,
      description:
        'Delivery attempts per event and service before it is dead-lettered (5xx, timeouts, 408, 429). Other 4xx answers are dead-lettered at once.',
      default: 15,
    },
    backoffBaseMs: {
      ...millis,
      description: 'First retry delay; doubled per attempt, with full jitter, up to backoffMaxMs.',
      default: 1000,
    },
    backoffMaxMs: {
      ...millis,
      description: 'Longest retry delay (also the cap on a Retry-After the receiver asks for).',
      default: 600_000,
    },
    sagaCompensation: {
      type: 'string',
      enum: ['disable', 'delete'],
      description:
        'When a service marked `required` fails for good to take a new user or group: keep the entry disabled (`disable`) or delete it (`delete`). ' +
        'Until every required service has confirmed, a new entry is created disabled.',
      default: 'disable',
    },
    retentionSeconds: {
      type: 'integer',
      minimum: 60,
      maximum: 31_536_000,
      description:
        'How long delivered jobs are kept: the window in which a re-published event is recognised as a duplicate, and `jobs replay` finds it. Dead-lettered jobs are kept until retried or removed.',
      default: 604_800,
    },
    services: {
      type: 'array',
      description:
        'External services that receive events: HTTP webhooks, each with its own queue, concurrency and rate. ' +
        'Each entry: name (letters, digits, _ or -; names its queue), url, secret or secretFile (HMAC-SHA256 key, at least 16 characters), ' +
        'eventTypes (default ["*"]; `user.*`, `*.deleted`, `group.member_added`), timeoutMs (default 10000), concurrency (per worker process, default 4), ' +
        'ratePerSecond (over all workers, default 50), required (default false: a new user or group stays disabled until every required service confirmed its created event; see sagaCompensation). ' +
        'From the environment: a JSON array (or SCIM_BRIDGE_EVENTS_SERVICES_FILE naming a file holding it).',
      default: [],
      examples: [
        [
          {
            name: 'billing',
            url: 'https://billing.example.com/hooks/scim',
            secretFile: '/run/secrets/billing-webhook',
            eventTypes: ['user.*', 'group.member_added'],
          },
        ],
      ],
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['name', 'url'],
        properties: {
          kind: {
            type: 'string',
            enum: ['webhook', 'scim'],
            description:
              '`webhook`: each event is POSTed to url, signed. `scim`: url is the base URL of a SCIM 2.0 service (a SaaS application) that the worker provisions users and groups into (POST, PATCH, DELETE with secret as its bearer token; the ids it assigns are kept in Redis). Its 408/429/5xx are retried with backoff, other 4xx dead-lettered with its detail. Needs a process with the directory (the server, or a worker with ldap.*).',
            default: 'webhook',
          },
          name: {
            type: 'string',
            pattern: '^[A-Za-z0-9_-]{1,64}$',
            'x-expected': 'letters, digits, _ or - (at most 64)',
            description: 'Name of the service: names its queue and appears in logs, /ready and the CLI.',
          },
          url: {
            type: 'string',
            format: 'http-url',
            description: 'URL the events are POSTed to (JSON body, one event per request).',
          },
          secret: {
            type: 'string',
            minLength: 16,
            'x-secret': true,
            description:
              'HMAC-SHA256 key for the X-Scim-Bridge-Signature header (kind scim: the bearer token of the SCIM service). Give it here or in secretFile.',
          },
          secretFile: {
            type: 'string',
            minLength: 1,
            description:
              'File holding the HMAC key (one trailing newline removed); relative to the working directory.',
          },
          eventTypes: {
            type: 'array',
            items: { type: 'string', pattern: '^[a-z*][a-z_.*]*$' },
            description:
              'Event types delivered to this service; `*` matches any part (`user.*`, `*.deleted`, `*`).',
            default: ['*'],
          },
          timeoutMs: {
            ...millis,
            description: 'Time allowed for one delivery request.',
            default: 10_000,
          },
          concurrency: {
            type: 'integer',
            minimum: 1,
            maximum: 256,
            description: 'Deliveries in flight per worker process for this service.',
            default: 4,
          },
          ratePerSecond: {
            type: 'integer',
            minimum: 1,
            maximum: 100_000,
            description: 'Most deliveries per second to this service, over all worker processes.',
            default: 50,
          },
          required: {
            type: 'boolean',
            description:
              'Reserved for sagas: creations wait for this service to confirm. Not implemented yet.',
            default: false,
          },
        },
      },
    },
  },
} as const;
