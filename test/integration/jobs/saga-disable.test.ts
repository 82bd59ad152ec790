/**
 * Provisioning sagas with the other compensation, `disable`: when the required service refuses a
 * new user for good, the entry stays in the directory, disabled, and a provisioning_failed event
 * records it. Real slapd, real redis-server, real HTTP receivers; outcomes checked in the directory.
 */
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
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

beforeAll(async () => {
  required = await startReceiver(SECRET);
  audit = await startReceiver(SECRET);
  t = await startTestBridge({
    seed: 'empty',
    env: {
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_SAGA_COMPENSATION: 'disable',
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
  const slapd = t.bridge.local!.slapd!;
  ldap = new Client({ url: slapd.url });
  await ldap.bind(slapd.rootDn, slapd.rootPassword);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
  await required?.close();
  await audit?.close();
});

describe('provisioning sagas, compensation disable', () => {
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
