/**
 * The overview against a real bridge: a write the directory refuses shows its SCIM error and the
 * LDAP result code behind it (the activity stream, never the body); the external services' queues
 * are listed; filters narrow the table.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { ConsoleClient } from './helpers.ts';

let t: TestBridge;
let admin: ConsoleClient;
const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const badEmail = 'zoë@exämple.test';

beforeAll(async () => {
  t = await startTestBridge({
    env: {
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      // Nothing listens there: deliveries wait and retry.
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
        { name: 'crm-hook', url: 'http://127.0.0.1:9/hook', secret: 'x'.repeat(32) },
      ]),
    },
  });
  admin = new ConsoleClient(t.bridge.url);
  expect((await admin.signIn(t.token)).status).toBe(303);
  // The directory refuses a non-ASCII mail (IA5String): LDAP result 21, invalidAttributeSyntax.
  const refused = await t.request('POST', '/Users', {
    schemas: [USER],
    userName: 'mailer',
    emails: [{ value: badEmail }],
  });
  expect(refused.status).toBe(400);
  expect((await t.request('POST', '/Users', { schemas: [USER], userName: 'fine.user' })).status).toBe(201);
});

afterAll(async () => {
  await t?.stop();
});

describe('overview', () => {
  it('shows the refused write with its scimType and the LDAP result code behind it', async () => {
    const page = await admin.get('/admin?outcome=failed');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<code>invalidValue</code>');
    expect(page.text).toContain('LDAP result 21');
    expect(page.text).not.toContain('fine.user');
  });

  it('filters by outcome, client and resource type', async () => {
    expect((await admin.get('/admin?outcome=ok')).text).not.toContain('LDAP result 21');
    expect((await admin.get('/admin?client=someone-else')).text).toContain('No SCIM writes match');
    expect((await admin.get('/admin?type=Groups')).text).toContain('No SCIM writes match');
    expect((await admin.get('/admin?type=users&client=auth.token')).text).toContain('LDAP result 21');
  });

  it('lists each external service with its queue', async () => {
    const page = await admin.get('/admin');
    expect(page.text).toMatch(/<th scope="row">crm-hook<\/th>/);
  });

  it('records no body, no header and no token in the activity stream', async () => {
    const redis = new Redis(t.bridge.local?.redis?.url ?? '');
    try {
      const rows = (await redis.xrange('scim-bridge:activity', '-', '+'))
        .map(([, fields]) => fields[1])
        .join('\n');
      expect(rows).toContain('"ldapResultCode":21');
      expect(rows).not.toContain(badEmail);
      expect(rows).not.toContain(t.token);
      expect(rows).not.toContain('fine.user');
    } finally {
      redis.disconnect();
    }
  });
});
