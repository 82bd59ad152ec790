/**
 * Provisioning sagas: with a `required` service, a new user is created disabled and enabled only
 * once that service took its created event; when the service refuses it for good, the configured
 * compensation runs (delete, or keep it disabled) and a provisioning_failed event records it. Real
 * slapd, real redis-server, real HTTP receivers; outcomes checked in the directory.
 */
import type { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { type Receiver, startReceiver } from './receiver.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SECRET = 'saga-webhook-secret-0123456789';
let t: TestBridge;
let required: Receiver;
let audit: Receiver;
let ldap: Client;

async function activeInLdap(uid: string): Promise<string | undefined> {
  const { searchEntries } = await ldap.search('ou=People,dc=example,dc=com', {
    scope: 'one',
    filter: `(uid=${uid})`,
    attributes: ['scimActive'],
  });
  const entry = searchEntries[0];
  return entry ? String(entry.scimActive) : undefined;
}

async function eventually<T>(
  read: () => Promise<T>,
  wanted: (value: T) => boolean,
  what: string,
  timeoutMs = 15_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (wanted(value)) return value;
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}; last value ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A bridge whose sagas compensate as given, with a required service and an audit receiver. */
function sagaBridge(compensation: 'delete' | 'disable'): void {
  beforeAll(async () => {
    required = await startReceiver(SECRET);
    audit = await startReceiver(SECRET);
    t = await startTestBridge({
      seed: 'empty',
      env: {
        SCIM_BRIDGE_EVENTS_ENABLED: 'true',
        SCIM_BRIDGE_EVENTS_SAGA_COMPENSATION: compensation,
        SCIM_BRIDGE_EVENTS_BACKOFF_BASE_MS: '50',
        SCIM_BRIDGE_EVENTS_BACKOFF_MAX_MS: '200',
        SCIM_BRIDGE_EVENTS_MAX_ATTEMPTS: '3',
        SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
          {
            name: 'hr',
            url: required.url,
            secret: SECRET,
            eventTypes: ['user.created'],
            required: true,
            ratePerSecond: 1000,
          },
          { name: 'audit', url: audit.url, secret: SECRET, ratePerSecond: 1000 },
        ]),
      },
    });
    ldap = await rootClientOf(t);
  });
  afterAll(async () => {
    await ldap?.unbind();
    await t?.stop();
    await required?.close();
    await audit?.close();
  });
}

describe('provisioning sagas, compensation delete', () => {
  sagaBridge('delete');

  it('holds a new user disabled until the required service confirmed, then enables it', async () => {
    required.mode = 503; // not yet: the service is retried
    const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'saga-ok', active: true });
    expect(r.status).toBe(201);
    expect(r.body.active).toBe(false);
    expect(await activeInLdap('saga-ok')).toBe('FALSE');
    required.mode = 200;
    await eventually(
      () => activeInLdap('saga-ok'),
      (v) => v === 'TRUE',
      'saga-ok to be enabled',
    );
    await audit.waitFor(
      () =>
        audit.accepted().some((d) => d.event?.resourceId === r.body.id && d.event?.type === 'user.activated'),
      10_000,
      'the activated event',
    );
  });

  it('a client that asked for an inactive user gets it inactive after confirmation too', async () => {
    required.mode = 200;
    const r = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'saga-inactive',
      active: false,
    });
    await required.waitFor(
      () => required.accepted().some((d) => d.event?.resourceId === r.body.id),
      10_000,
      'delivery',
    );
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // a settle round or two
    expect(await activeInLdap('saga-inactive')).toBe('FALSE');
  });

  it('compensates when the required service refuses for good: the entry is deleted and the failure recorded', async () => {
    required.mode = 422;
    const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'saga-refused', active: true });
    expect(r.status).toBe(201);
    await eventually(
      () => activeInLdap('saga-refused'),
      (v) => v === undefined,
      'saga-refused to be deleted',
    );
    await audit.waitFor(
      () =>
        audit
          .accepted()
          .some((d) => d.event?.resourceId === r.body.id && d.event?.type === 'user.provisioning_failed'),
      10_000,
      'the provisioning_failed event',
    );
    expect((await t.request('GET', `/Users/${r.body.id}`)).status).toBe(404);
  });
});

describe('provisioning sagas, compensation disable', () => {
  sagaBridge('disable');

  it('keeps a refused user disabled in the directory and records the failure', async () => {
    required.mode = 422;
    const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'saga-kept', active: true });
    expect(r.status).toBe(201);
    await audit.waitFor(
      () =>
        audit
          .accepted()
          .some((d) => d.event?.resourceId === r.body.id && d.event?.type === 'user.provisioning_failed'),
      10_000,
      'the provisioning_failed event',
    );
    // Pending, then refused: never enabled, and still there.
    expect(await activeInLdap('saga-kept')).toBe('FALSE');
    const read = await t.request('GET', `/Users/${r.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body.active).toBe(false);
    // It stays so: the saga is settled, nothing enables it later.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await activeInLdap('saga-kept')).toBe('FALSE');
  });

  it('a user the required service accepts is enabled as usual', async () => {
    required.mode = 200;
    const r = await t.request('POST', '/Users', { schemas: [USER], userName: 'saga-ok', active: true });
    expect(r.status).toBe(201);
    await eventually(
      () => activeInLdap('saga-ok'),
      (v) => v === 'TRUE',
      'saga-ok to be enabled',
    );
  });
});
