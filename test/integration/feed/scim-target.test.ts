/**
 * A SCIM service downstream (issue 19): a second bridge, on its own slapd and Redis, is the
 * target of the first (events.services kind scim, its bearer token). The first bridge's users
 * and groups — the sample directory (brought over by a reconciliation), SCIM writes, and changes
 * made directly in its directory (the change feed) — converge in the second, including a rename,
 * a membership change and deletes.
 */
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const BOUND_MS = 30_000;

let source: TestBridge;
let target: TestBridge;
let root: Client;
let people: string;

/** userName -> the sorted userNames of each group, as a bridge lists them. */
async function state(bridge: TestBridge) {
  const users = await bridge.request('GET', '/Users?count=1000');
  const groups = await bridge.request('GET', '/Groups?count=1000');
  const names = new Map<string, string>((users.body.Resources as any[]).map((u) => [u.id, u.userName]));
  return {
    users: (users.body.Resources as any[]).map((u) => `${u.userName}|${u.displayName ?? ''}`).sort(),
    groups: (groups.body.Resources as any[])
      .map(
        (g) =>
          `${g.displayName}: ${((g.members ?? []) as any[])
            .map((m) => names.get(m.value) ?? '?')
            .sort()
            .join(',')}`,
      )
      .sort(),
  };
}

async function converged(what: string): Promise<void> {
  const deadline = Date.now() + BOUND_MS;
  let last = '';
  while (Date.now() < deadline) {
    const [want, have] = [await state(source), await state(target)];
    last = `want ${JSON.stringify(want)}\nhave ${JSON.stringify(have)}`;
    if (JSON.stringify(want) === JSON.stringify(have)) return;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`not converged (${what}) within ${BOUND_MS} ms:\n${last}`);
}

beforeAll(async () => {
  target = await startTestBridge({ seed: 'empty' });
  source = await startTestBridge({
    env: {
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_BACKOFF_BASE_MS: '100',
      SCIM_BRIDGE_EVENTS_BACKOFF_MAX_MS: '1000',
      SCIM_BRIDGE_EVENTS_MAX_ATTEMPTS: '60',
      SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify([
        { kind: 'scim', name: 'downstream', url: target.baseUrl, secret: target.token, ratePerSecond: 1000 },
        // The same target with a token it does not know: its 401 is dead-lettered with the reason.
        {
          kind: 'scim',
          name: 'refused',
          url: target.baseUrl,
          secret: 'not-the-right-token-0123',
          eventTypes: ['user.created'],
        },
      ]),
      SCIM_BRIDGE_FEED_ENABLED: 'true',
      SCIM_BRIDGE_FEED_POLL_INTERVAL_MS: '50',
    },
  });
  const slapd = source.bridge.local?.slapd;
  if (!slapd) throw new Error('needs the throwaway slapd');
  root = new Client({ url: slapd.url });
  await root.bind(slapd.rootDn, slapd.rootPassword);
  people = `ou=People,${slapd.suffix}`;
  await new Promise<void>((resolve) => {
    const check = () =>
      source.bridge.feed?.status().position !== undefined ? resolve() : setTimeout(check, 25);
    check();
  });
}, 60_000);
afterAll(async () => {
  await root?.unbind().catch(() => undefined);
  await source?.stop();
  await target?.stop();
});

describe('a second bridge as the SCIM target', () => {
  it('receives the existing directory through a reconciliation, groups with their members', async () => {
    const report = await source.bridge.feed?.reconcile({ services: ['downstream'] });
    expect(report?.downstream?.created).toBe(7);
    await converged('initial reconciliation');
    const have = await state(target);
    expect(have.users).toHaveLength(5);
    expect(have.groups.find((g) => g.startsWith('engineering:'))).toBe('engineering: alice,bob,carol');
  });

  it('SCIM writes and direct changes converge: create, rename, membership, delete', async () => {
    const created = await source.request('POST', '/Users', {
      schemas: [USER],
      userName: 'via-scim',
      displayName: 'Via SCIM',
    });
    expect(created.status).toBe(201);
    const direct = `uid=via-ldap,${people}`;
    await root.add(direct, {
      objectClass: ['inetOrgPerson'],
      uid: 'via-ldap',
      cn: 'L',
      sn: 'L',
      displayName: 'Via LDAP',
    });
    await converged('two new users');

    await root.modifyDN(direct, 'uid=via-ldap-renamed');
    await root.modify(`cn=engineering,ou=Groups,${source.bridge.local?.slapd?.suffix}`, [
      new Change({
        operation: 'add',
        modification: new Attribute({ type: 'member', values: [`uid=via-ldap-renamed,${people}`] }),
      }),
      new Change({
        operation: 'delete',
        modification: new Attribute({ type: 'member', values: [`uid=bob,${people}`] }),
      }),
    ]);
    await root.modify(`uid=alice,${people}`, [
      new Change({
        operation: 'replace',
        modification: new Attribute({ type: 'displayName', values: ['Alice (renamed)'] }),
      }),
    ]);
    await converged('rename, membership, attribute');
    expect((await state(target)).groups).toContain('engineering: alice,carol,via-ldap-renamed');

    expect((await source.request('DELETE', `/Users/${created.body.id}`)).status).toBe(204);
    await root.del(`uid=dave,${people}`);
    await converged('deletes');
    const users = (await state(target)).users.map((u) => u.split('|')[0]);
    expect(users).not.toContain('via-scim');
    expect(users).not.toContain('dave');
  });
});

describe('a SCIM target that refuses', () => {
  it('a 4xx answer is dead-lettered at once, with the status and the reason', async () => {
    const created = await source.request('POST', '/Users', { schemas: [USER], userName: 'refused-one' });
    expect(created.status).toBe(201);
    const admin = source.bridge.events?.admin;
    if (!admin) throw new Error('needs the events runtime');
    const deadline = Date.now() + BOUND_MS;
    let failed: Awaited<ReturnType<typeof admin.list>> = [];
    while (Date.now() < deadline && failed.length === 0) {
      failed = (await admin.list({ failed: true })).filter((row) => row.resourceId === created.body.id);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    expect(failed.map((row) => [row.service, row.attemptsMade])).toEqual([['refused', 1]]);
    expect(failed[0]?.failedReason).toMatch(/POST \/Users answered 401.*not retried/);
  });
});
