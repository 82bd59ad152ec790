/**
 * The Active Directory feed's kill test (issue 19): the feed runs in a `scim-ldap-bridge worker`
 * child process against a real Samba AD DC, a redis-server and a webhook receiver started here.
 * FEED_KILL_CHANGES (default 300) changes are made directly in the directory while the worker is
 * SIGKILLed and started again. Afterwards every change was delivered at least once, per entry in
 * the order it was made. AD gives an entry as it stands, not its modifications: changes of one
 * entry read by one poll arrive as one update naming each attribute (test/harness/feed-kill.ts
 * `foldedInOrder`); how many were folded is printed.
 *
 * Needs Samba (root, the fixed ports 389/636/88). Run alone:
 * npx vitest run test/integration/ad/feed-kill.test.ts --maxWorkers=1
 */
import { readFileSync } from 'node:fs';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';
import { missingSambaPrerequisites, type RunningSambaAd, startSambaAd } from '../../../src/localdev/samba.ts';
import { guidToString } from '../../../src/mapping/transforms.ts';
import {
  changeWhileKilling,
  expectedSequence,
  FeedWorker,
  foldedInOrder,
  type KillCycle,
  updatesPerUser,
} from '../../harness/feed-kill.ts';
import { skipWithout } from '../../harness/prerequisites.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';

const SUITE = 'the AD feed process killed during direct changes';
const SECRET = 'feed-ad-kill-secret-0123456789';
const CHANGES = Number(process.env.FEED_KILL_CHANGES ?? 300);
const USERS = 20;
const CYCLE: KillCycle = [
  ['title', 'title'],
  ['displayName', 'displayName'],
  ['telephoneNumber', 'phoneNumbers'],
  ['employeeID', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber'],
];

let samba: RunningSambaAd;
let redis: RunningRedis;
let receiver: Receiver;
let admin: Client;
let worker: FeedWorker | undefined;

const userDn = (index: number) => `CN=feedkill${index},CN=Users,DC=example,DC=test`;

describe.skipIf(skipWithout(SUITE, await missingSambaPrerequisites()))(SUITE, () => {
  beforeAll(async () => {
    samba = await startSambaAd();
    [redis, receiver] = await Promise.all([startRedis(), startReceiver(SECRET)]);
    admin = new Client({
      url: samba.ldapsUrl,
      timeout: 10_000,
      tlsOptions: { ca: readFileSync(samba.caFile), servername: samba.serverName },
    });
    await admin.bind(samba.adminDn, samba.adminPassword);
  }, 120_000);

  afterAll(async () => {
    await worker?.kill();
    await admin?.unbind().catch(() => undefined);
    await Promise.allSettled([redis?.stop(), receiver?.close()]);
    await samba?.stop();
  }, 60_000);

  it(`delivers all ${CHANGES} changes at least once, in per-entry order`, async () => {
    worker = new FeedWorker(
      {
        SCIM_BRIDGE_LDAP_URL: samba.ldapsUrl,
        SCIM_BRIDGE_LDAP_BIND_DN: samba.adminDn,
        SCIM_BRIDGE_LDAP_BIND_PASSWORD: samba.adminPassword,
        SCIM_BRIDGE_LDAP_TLS_CA_FILE: samba.caFile,
        SCIM_BRIDGE_LDAP_TLS_SERVER_NAME: samba.serverName,
        SCIM_BRIDGE_MAPPINGS_DIR: 'mappings/activedirectory',
      },
      redis.url,
      { url: receiver.url, secret: SECRET },
    );
    worker.start();
    await worker.waitForPosition(redis.url);
    // Created while the feed follows: it keeps their digests, so an update names what changed
    // (an entry it never saw would be reported with every attribute).
    for (let i = 0; i < USERS; i++)
      await admin.add(userDn(i), [
        new Attribute({ type: 'objectClass', values: ['user'] }),
        new Attribute({ type: 'sAMAccountName', values: [`feedkill${i}`] }),
      ]);
    const ids = new Map<string, number>();
    for (let i = 0; i < USERS; i++) {
      const { searchEntries } = await admin.search(userDn(i), {
        scope: 'base',
        attributes: ['objectGUID'],
        explicitBufferAttributes: ['objectGUID'],
      });
      ids.set(guidToString(searchEntries[0]?.objectGUID as Buffer), i);
    }
    await receiver.waitFor(
      () => [...ids.keys()].every((id) => receiver.accepted().some((d) => d.event?.resourceId === id)),
      30_000,
      `the users' creation\n${worker.output.join('')}`,
    );

    const started = performance.now();
    let deliveredBefore = receiver.accepted().length;
    const kills = await changeWhileKilling({
      changes: CHANGES,
      users: USERS,
      cycle: CYCLE,
      worker,
      // Samba takes the changes faster than a worker starts: each is killed once it is delivering.
      beforeKill: async () => {
        await receiver.waitFor(
          () => receiver.accepted().length > deliveredBefore,
          30_000,
          `the worker to deliver\n${worker?.output.join('')}`,
        );
        deliveredBefore = receiver.accepted().length;
      },
      modify: (user, attribute, value) =>
        admin.modify(userDn(user), [
          new Change({
            operation: 'replace',
            modification: new Attribute({ type: attribute, values: [value] }),
          }),
        ]),
    });
    const written = performance.now() - started;
    expect(kills).toBeGreaterThanOrEqual(2);

    const expected = (user: number) =>
      expectedSequence(user, { changes: CHANGES, users: USERS, cycle: CYCLE });
    const mismatches = () => {
      const perUser = updatesPerUser(receiver.accepted(), ids);
      return Array.from({ length: USERS }, (_, user) =>
        foldedInOrder(expected(user), perUser.get(user) ?? []),
      );
    };
    await receiver
      .waitFor(
        () => mismatches().every((m) => m === undefined),
        120_000,
        `all ${CHANGES} changes\n${worker?.output.join('').slice(-3000)}`,
      )
      .catch(() => undefined);
    const perUser = updatesPerUser(receiver.accepted(), ids);
    const events = [...perUser.values()].reduce((sum, list) => sum + list.length, 0);
    console.info(
      `AD feed kill test: ${CHANGES} direct changes over ${USERS} users in ${written.toFixed(0)} ms, ${kills} SIGKILLs of the worker; ${events} update events delivered (${CHANGES - events} changes folded into another change's event)`,
    );
    if (mismatches().some((m) => m !== undefined)) console.info(worker?.output.join('').slice(-4000));
    for (let user = 0; user < USERS; user++)
      expect(foldedInOrder(expected(user), perUser.get(user) ?? []), `user ${user}`).toBeUndefined();
  }, 300_000);
});
