/**
 * The feed's kill test (issue 19): the feed runs in a `scim-ldap-bridge worker` child process
 * against a slapd, a redis-server and a webhook receiver started here. 1,000 changes are made
 * directly in the directory while the worker is SIGKILLed and started again. Afterwards every
 * change was delivered at least once, and per entry in the order it was made (the receiver
 * de-duplicates on the event id, as receivers are told to).
 *
 * FEED_KILL_CHANGES (default 1000) sets the number of changes.
 */
import { Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';
import { BASE_LDIF, type RunningSlapd, startSlapd } from '../../../src/localdev/slapd.ts';
import { expectedSequence, FeedWorker, type KillCycle, runKillScenario } from '../../harness/feed-kill.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';

const SECRET = 'feed-kill-secret-0123456789';
const CHANGES = Number(process.env.FEED_KILL_CHANGES ?? 1000);
const USERS = 50;
/** Each change replaces one of these, in turn, so the delivered sequence shows the order. */
const CYCLE: KillCycle = [
  ['title', 'title'],
  ['displayName', 'displayName'],
  ['telephoneNumber', 'phoneNumbers'],
  ['employeeNumber', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber'],
];

let slapd: RunningSlapd;
let redis: RunningRedis;
let receiver: Receiver;
let root: Client;
let worker: FeedWorker | undefined;

const userDn = (index: number) => `uid=feed-kill-${index},ou=People,${slapd.suffix}`;

beforeAll(async () => {
  [slapd, redis, receiver] = await Promise.all([
    startSlapd({ seedLdif: [BASE_LDIF] }),
    startRedis(),
    startReceiver(SECRET),
  ]);
  root = new Client({ url: slapd.url });
  await root.bind(slapd.rootDn, slapd.rootPassword);
  for (let i = 0; i < USERS; i++)
    await root.add(userDn(i), {
      objectClass: ['inetOrgPerson'],
      uid: `feed-kill-${i}`,
      cn: `K ${i}`,
      sn: 'K',
    });
}, 60_000);
afterAll(async () => {
  await worker?.kill();
  await root?.unbind().catch(() => undefined);
  await Promise.allSettled([slapd?.stop(), redis?.stop(), receiver?.close()]);
});

describe('the feed process killed during direct changes', () => {
  it(`delivers all ${CHANGES} changes at least once, in per-entry order`, async () => {
    const ids = new Map<string, number>();
    for (let i = 0; i < USERS; i++) {
      const { searchEntries } = await root.search(userDn(i), { scope: 'base', attributes: ['entryUUID'] });
      ids.set(String(searchEntries[0]?.entryUUID).toLowerCase(), i);
    }
    worker = new FeedWorker(
      {
        SCIM_BRIDGE_LDAP_URL: slapd.url,
        SCIM_BRIDGE_LDAP_BIND_DN: slapd.serviceDn,
        SCIM_BRIDGE_LDAP_BIND_PASSWORD: slapd.servicePassword,
      },
      redis.url,
      { url: receiver.url, secret: SECRET },
    );
    const { kills, perUser } = await runKillScenario({
      root,
      worker,
      receiver,
      redisUrl: redis.url,
      probeDn: `uid=feed-kill-probe,ou=People,${slapd.suffix}`,
      userDn,
      ids,
      changes: CHANGES,
      users: USERS,
      cycle: CYCLE,
    });
    expect(kills).toBeGreaterThanOrEqual(2);
    for (let user = 0; user < USERS; user++)
      expect(perUser.get(user)?.flat(), `user ${user}`).toEqual(
        expectedSequence(user, { changes: CHANGES, users: USERS, cycle: CYCLE }),
      );
  }, 240_000);
});
