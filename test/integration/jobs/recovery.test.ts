/**
 * Journal recovery against the real directory, through the bridge's own probe (mapping id and
 * version attributes): a process that died after begin() left an intent; whether its write
 * happened is read back from slapd, and only the writes that happened are published.
 */
import { randomUUID } from 'node:crypto';
import { Attribute, Change, type Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChangeIntent } from '../../../src/ports/events.ts';
import { rootClientOf, startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { type Receiver, startReceiver } from './receiver.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SECRET = 'recovery-secret-0123456789';
let t: TestBridge;
let receiver: Receiver;
let ldap: Client;

function modifyIntent(
  user: { id: string; dn: string; version: string },
  extra: Partial<ChangeIntent> = {},
): ChangeIntent {
  return {
    operation: 'modify',
    dn: user.dn,
    versionBefore: user.version,
    resourceId: user.id,
    resourceType: 'User',
    actor: 'crashed-process',
    events: [
      {
        eventId: randomUUID(),
        type: 'user.updated',
        change: 'updated',
        resourceType: 'User',
        changedAttributes: ['displayName'],
        actor: 'crashed-process',
        origin: 'scim',
      },
    ],
    ...extra,
  };
}

async function createUser(userName: string): Promise<{ id: string; dn: string; version: string }> {
  const r = await t.request('POST', '/Users', { schemas: [USER], userName });
  expect(r.status).toBe(201);
  const dn = `uid=${userName},ou=people,dc=example,dc=com`;
  const { searchEntries } = await ldap.search(dn, { scope: 'base', attributes: ['entryCSN'] });
  return { id: r.body.id, dn, version: String(searchEntries[0]?.entryCSN) };
}

beforeAll(async () => {
  receiver = await startReceiver(SECRET);
  t = await startTestBridge({
    seed: 'empty',
    env: {
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_RECOVERY_GRACE_MS: '300',
      SCIM_BRIDGE_EVENTS_RECOVERY_INTERVAL_MS: '3600000',
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([{ name: 'hook', url: receiver.url, secret: SECRET }]),
    },
  });
  ldap = await rootClientOf(t);
});
afterAll(async () => {
  await ldap?.unbind();
  await t?.stop();
  await receiver?.close();
});

describe('journal recovery against slapd', () => {
  it('publishes the writes that happened (modify, rename, delete) and discards the one that did not', async () => {
    const events = t.bridge.events!;
    const modified = await createUser('rec-modified');
    const untouched = await createUser('rec-untouched');
    const renamed = await createUser('rec-renamed');
    const deleted = await createUser('rec-deleted');

    const intents = {
      modified: modifyIntent(modified),
      untouched: modifyIntent(untouched),
      renamed: modifyIntent(renamed, { newDn: 'uid=rec-renamed-2,ou=people,dc=example,dc=com' }),
      deleted: { ...modifyIntent(deleted), operation: 'delete' as const },
    };
    for (const intent of Object.values(intents)) await events.journal.begin(intent);
    // The "crashed" processes' writes: three reached the directory, one did not.
    await ldap.modify(modified.dn, [
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'displayName', values: ['New'] }),
      }),
    ]);
    await ldap.modifyDN(renamed.dn, 'uid=rec-renamed-2');
    await ldap.del(deleted.dn);

    await new Promise((r) => setTimeout(r, 400));
    expect(await events.recover()).toEqual({ published: 3, discarded: 1, deferred: 0 });

    const recovered = (intent: ChangeIntent) => () =>
      receiver.accepted().some((d) => d.eventId === intent.events[0]!.eventId);
    for (const name of ['modified', 'renamed', 'deleted'] as const) {
      await receiver.waitFor(recovered(intents[name]), 10_000, `the ${name} event`);
    }
    const byId = new Map(receiver.accepted().map((d) => [d.eventId, d.event]));
    expect(byId.get(intents.modified.events[0]!.eventId)).toMatchObject({
      type: 'user.updated',
      resourceId: modified.id,
    });
    expect(byId.get(intents.renamed.events[0]!.eventId)).toMatchObject({ resourceId: renamed.id });
    expect(byId.get(intents.deleted.events[0]!.eventId)).toMatchObject({ resourceId: deleted.id });
    await new Promise((r) => setTimeout(r, 300));
    expect(recovered(intents.untouched)()).toBe(false);
  });
});
