/**
 * The change feed end to end (issue 19): a whole bridge (real slapd with the accesslog overlay,
 * real redis-server) with events and the feed on, delivering to a real HTTP receiver. Changes made
 * directly in the directory (an ldapts client bound as the directory's root, like ldapmodify)
 * each reach the receiver as the event a SCIM write would produce, with origin "directory"; the
 * bridge's own writes are delivered once, by the journal.
 */
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const SECRET = 'test-webhook-secret-0123456789';
const BOUND_MS = 10_000;

let t: TestBridge;
let receiver: Receiver;
let root: Client;
let people: string;
let groups: string;

function eventsFor(resourceId: string) {
  return receiver
    .accepted()
    .filter((d) => d.event?.resourceId === resourceId)
    .map((d) => d.event);
}

async function waitForEvents(resourceId: string, count: number) {
  await receiver.waitFor(
    () => eventsFor(resourceId).length >= count,
    BOUND_MS,
    `${count} event(s) of ${resourceId}`,
  );
  return eventsFor(resourceId);
}

async function idOf(dn: string): Promise<string> {
  const { searchEntries } = await root.search(dn, { scope: 'base', attributes: ['entryUUID'] });
  return String(searchEntries[0]?.entryUUID).toLowerCase();
}

const METRICS_TOKEN = 'feed-metrics-token-0123456789';

/** One sample of a scrape, e.g. sample(text, 'scim_feed', 'state', 'active'). */
function sample(text: string, name: string, label: string, value: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${label}="${value}"}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

beforeAll(async () => {
  receiver = await startReceiver(SECRET);
  t = await startTestBridge({
    env: {
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
        { name: 'hook', url: receiver.url, secret: SECRET, concurrency: 4, ratePerSecond: 1000 },
      ]),
      SCIM_BRIDGE_FEED_ENABLED: 'true',
      SCIM_BRIDGE_FEED_POLL_INTERVAL_MS: '50',
      SCIM_BRIDGE_METRICS_TOKEN: METRICS_TOKEN,
    },
  });
  const slapd = t.bridge.local?.slapd;
  if (!slapd) throw new Error('the feed tests need the throwaway slapd');
  root = new Client({ url: slapd.url });
  await root.bind(slapd.rootDn, slapd.rootPassword);
  people = `ou=People,${slapd.suffix}`;
  groups = `ou=Groups,${slapd.suffix}`;
  // The feed starts from "now" on its first poll: wait until it holds a position.
  await receiver.waitFor(() => t.bridge.feed?.status().position !== undefined, BOUND_MS, 'the feed to start');
});
afterAll(async () => {
  await root?.unbind().catch(() => undefined);
  await t?.stop();
  await receiver?.close();
});

describe('direct directory changes become events', () => {
  it('an add, a modify, a rename and a delete each yield their event, in order, with origin "directory"', async () => {
    const dn = `uid=feed-frank,${people}`;
    await root.add(dn, {
      objectClass: ['inetOrgPerson', 'scimResource'],
      uid: 'feed-frank',
      cn: 'Frank Feed',
      sn: 'Feed',
      mail: 'frank@example.com',
    });
    const id = await idOf(dn);
    await root.modify(dn, [
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'displayName', values: ['Frank F.'] }),
      }),
    ]);
    await root.modifyDN(dn, 'uid=feed-franklin');
    await root.del(`uid=feed-franklin,${people}`);

    const events = await waitForEvents(id, 4);
    expect(events.map((e) => e.type)).toEqual([
      'user.created',
      'user.updated',
      'user.updated',
      'user.deleted',
    ]);
    expect(events.every((e) => e.origin === 'directory')).toBe(true);
    expect(events[0].changedAttributes).toEqual(expect.arrayContaining(['userName', 'emails']));
    expect(events[1].changedAttributes).toEqual(['displayName']);
    expect(events[2].changedAttributes).toEqual(['userName']);
    expect(events[3].actor).toMatch(/^cn=admin,/);
  });

  it('a membership change yields member_added and member_removed naming the member', async () => {
    const group = `cn=engineering,${groups}`;
    const erin = `uid=erin,${people}`;
    const [groupId, erinId] = [await idOf(group), await idOf(erin)];
    await root.modify(group, [
      new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [erin] }) }),
    ]);
    await root.modify(group, [
      new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [erin] }) }),
    ]);
    const events = await waitForEvents(groupId, 2);
    expect(events.map((e) => [e.type, e.memberIds])).toEqual([
      ['group.member_added', [erinId]],
      ['group.member_removed', [erinId]],
    ]);
  });

  it("the bridge's own writes are delivered once (by the journal), not again by the feed", async () => {
    const created = await t.request('POST', '/Users', {
      schemas: [USER],
      userName: 'feed-own',
      name: { familyName: 'Own' },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await waitForEvents(id, 1);
    // A direct change made after it: once the feed delivered this one, it has read past the write.
    const marker = `uid=feed-marker,${people}`;
    await root.add(marker, { objectClass: ['inetOrgPerson'], uid: 'feed-marker', cn: 'M', sn: 'M' });
    await waitForEvents(await idOf(marker), 1);
    expect(eventsFor(id).map((e) => [e.type, e.origin])).toEqual([['user.created', 'scim']]);
    expect(t.bridge.feed?.status().ownWrites).toBeGreaterThan(0);
  });

  it('the metrics hook reports the position, the lag and the events per origin', () => {
    const metrics = t.bridge.feed?.metrics();
    const delivered = receiver.accepted().map((d) => d.event.origin as string);
    expect(metrics?.active).toBe(1);
    expect(metrics?.eventsByOrigin.directory).toBe(delivered.filter((o) => o === 'directory').length);
    expect(metrics?.eventsByOrigin.scim).toBe(delivered.filter((o) => o === 'scim').length);
    // the position is the newest record handled: within the last minute of this test run
    expect(Math.abs(Date.now() / 1000 - (metrics?.positionSeconds ?? 0))).toBeLessThan(60);
    expect(t.bridge.feed?.warnings()).toEqual([]);
  });

  it('/metrics shows the feed: active, its position, and the events per origin', async () => {
    const response = await fetch(`${t.bridge.url}/metrics`, {
      headers: { Authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(response.status).toBe(200);
    const text = await response.text();
    const delivered = receiver.accepted().map((d) => d.event.origin as string);
    expect(sample(text, 'scim_feed', 'state', 'active')).toBe(1);
    expect(sample(text, 'scim_events_queued', 'origin', 'directory')).toBe(
      delivered.filter((o) => o === 'directory').length,
    );
    expect(sample(text, 'scim_events_queued', 'origin', 'scim')).toBe(
      delivered.filter((o) => o === 'scim').length,
    );
    const position = sample(text, 'scim_feed', 'state', 'position_seconds') ?? 0;
    expect(Math.abs(Date.now() / 1000 - position)).toBeLessThan(60);
  });
});
