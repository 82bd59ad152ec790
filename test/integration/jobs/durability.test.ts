/**
 * The journal and the queues against a real durable redis-server (--appendonly yes
 * --appendfsync always): a kill -9 and restart of Redis loses no queued event and no open intent;
 * recovery publishes the writes that happened and discards the others; Redis down at begin() is
 * the port's UnavailableError (503 for the client).
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventsConfig } from '../../../src/config/index.ts';
import { RedisChangeJournal, recoverOpenIntents } from '../../../src/jobs/journal.ts';
import { EventPublisher } from '../../../src/jobs/publisher.ts';
import { startWorkers } from '../../../src/jobs/worker.ts';
import { type RunningRedis, startRedis } from '../../../src/localdev/redis.ts';
import { UnavailableError } from '../../../src/ports/errors.ts';
import type { ChangeIntent } from '../../../src/ports/events.ts';
import { type Receiver, startReceiver } from './receiver.ts';

const SECRET = 'durability-secret-0123456789';
const PREFIX = 'dur:';
let redis: RunningRedis;
let receiver: Receiver;

function eventsConfig(url: string): EventsConfig {
  return {
    enabled: true,
    workersInProcess: true,
    recoveryGraceMs: 1,
    recoveryIntervalMs: 1000,
    sagaCompensation: 'disable',
    maxAttempts: 20,
    backoffBaseMs: 50,
    backoffMaxMs: 500,
    retentionSeconds: 3600,
    services: [
      {
        kind: 'webhook',
        name: 'hook',
        url,
        secret: SECRET,
        eventTypes: ['user.*'],
        timeoutMs: 2000,
        concurrency: 8,
        ratePerSecond: 10_000,
        required: false,
      },
    ],
  };
}

function intent(operation: ChangeIntent['operation'], dn: string, resourceId?: string): ChangeIntent {
  return {
    operation,
    dn,
    ...(resourceId ? { resourceId } : {}),
    resourceType: 'User',
    actor: 'test',
    events: [
      {
        eventId: randomUUID(),
        type: operation === 'add' ? 'user.created' : operation === 'delete' ? 'user.deleted' : 'user.updated',
        change: operation === 'add' ? 'created' : operation === 'delete' ? 'deleted' : 'updated',
        resourceType: 'User',
        changedAttributes: [],
        actor: 'test',
        origin: 'scim',
      },
    ],
  };
}

async function waitReady(client: Redis): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (client.status === 'ready' && (await client.ping().catch(() => '')) === 'PONG') return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('redis did not come back');
}

beforeAll(async () => {
  redis = await startRedis({ durable: true });
  receiver = await startReceiver(SECRET);
});
afterAll(async () => {
  await receiver?.close();
  await redis?.stop();
});

describe('durable redis', () => {
  it('queued events and open intents survive kill -9 of Redis; recovery settles them against the directory', async () => {
    const config = eventsConfig(receiver.url);
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    client.on('error', () => undefined);
    await waitReady(client);
    const publisher = new EventPublisher({ connection: client, keyPrefix: PREFIX, events: config });
    const journal = new RedisChangeJournal({ redis: client, keyPrefix: PREFIX, publisher });

    // 200 committed writes (queued, no worker running yet) ...
    const committed: string[] = [];
    for (let i = 0; i < 200; i++) {
      const it = intent('add', `uid=c${i},ou=people,dc=example,dc=com`);
      const handle = await journal.begin(it);
      await handle.commit({ resourceId: `id-c${i % 20}` });
      committed.push(it.events[0]!.eventId);
    }
    // The jobs are added after commit() returns; let them land so that the kill hits queued jobs.
    await journal.drain();
    expect(await client.zcard(`${PREFIX}journal:open`)).toBe(0);
    // ... and writes whose process "died" after begin(): two happened in the directory, two did not.
    const happened = [
      intent('add', 'uid=h1,ou=people,dc=example,dc=com'),
      intent('delete', 'uid=h2,ou=people,dc=example,dc=com', 'id-h2'),
    ];
    const notHappened = [
      intent('add', 'uid=n1,ou=people,dc=example,dc=com'),
      intent('delete', 'uid=n2,ou=people,dc=example,dc=com', 'id-n2'),
    ];
    for (const i of [...happened, ...notHappened]) await journal.begin(i);

    await redis.kill();
    await expect(journal.begin(intent('add', 'uid=x,dc=example,dc=com'))).rejects.toBeInstanceOf(
      UnavailableError,
    );
    await redis.restart();
    await waitReady(client);

    // The directory as recovery sees it: h1 exists (add happened), h2 is gone (delete happened),
    // n1 does not exist (add did not happen), n2 still exists with its id (delete did not happen).
    const directory = new Map([
      ['uid=h1,ou=people,dc=example,dc=com', { id: 'id-h1' }],
      ['uid=n2,ou=people,dc=example,dc=com', { id: 'id-n2' }],
    ]);
    const report = await recoverOpenIntents({
      redis: client,
      keyPrefix: PREFIX,
      publisher,
      probe: async (_type, dn) => directory.get(dn),
      graceMs: 1,
    });
    expect(report).toEqual({ published: 2, discarded: 2, deferred: 0 });
    expect(await client.zcard(`${PREFIX}journal:open`)).toBe(0);

    const pool = startWorkers({
      connect: (role) => new Redis(redis.url, { maxRetriesPerRequest: role === 'blocking' ? null : 1 }),
      keyPrefix: PREFIX,
      events: config,
      secrets: new Map([['hook', SECRET]]),
    });
    try {
      const expected = new Set([...committed, ...happened.map((i) => i.events[0]!.eventId)]);
      await receiver.waitFor(
        () => receiver.accepted().length >= expected.size,
        30_000,
        `${expected.size} deliveries`,
      );
      const got = receiver.accepted();
      expect(new Set(got.map((d) => d.eventId))).toEqual(expected);
      expect(got.every((d) => d.signatureValid)).toBe(true);
      expect(got.find((d) => d.eventId === happened[0]!.events[0]!.eventId)?.event.resourceId).toBe('id-h1');
      // Per resource, delivery order = commit order.
      for (let r = 0; r < 20; r++) {
        const order = got
          .filter((d) => d.event.resourceId === `id-c${r}`)
          .map((d) => committed.indexOf(d.eventId));
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }
      // Re-publishing the same events (a commit repeated by recovery) delivers nothing twice.
      const before = receiver.requests.length;
      await publisher.publish(got.slice(0, 10).map((d) => d.event));
      await new Promise((r) => setTimeout(r, 500));
      expect(receiver.requests.length).toBe(before);
    } finally {
      await pool.close();
      await publisher.close();
      client.disconnect();
    }
  });
});

describe('scim-ldap-bridge worker', () => {
  it('a separate worker process delivers the queued events and stops on SIGTERM', async () => {
    const config = eventsConfig(receiver.url);
    const client = new Redis(redis.url, { maxRetriesPerRequest: 1, enableOfflineQueue: false });
    client.on('error', () => undefined);
    await waitReady(client);
    const publisher = new EventPublisher({ connection: client, keyPrefix: 'scim-bridge:', events: config });
    const eventId = randomUUID();
    await publisher.publish([
      {
        eventId,
        type: 'user.created',
        change: 'created',
        resourceType: 'User',
        resourceId: 'worker-process',
        changedAttributes: ['userName'],
        actor: 'test',
        origin: 'scim',
        timestamp: new Date().toISOString(),
      },
    ]);
    const repoRoot = path.resolve(import.meta.dirname, '../../..');
    const worker = spawn(path.join(repoRoot, 'node_modules/.bin/node'), ['src/cli/main.ts', 'worker'], {
      cwd: repoRoot,
      stdio: 'ignore',
      env: {
        PATH: process.env.PATH ?? '',
        SCIM_BRIDGE_REDIS_URL: redis.url,
        SCIM_BRIDGE_LOG_LEVEL: 'silent',
        SCIM_BRIDGE_EVENTS_SERVICES: JSON.stringify(config.services),
      },
    });
    try {
      await receiver.waitFor(
        () => receiver.accepted().some((d) => d.eventId === eventId),
        20_000,
        'the event',
      );
      const code = await new Promise<number | null>((resolve) => {
        worker.once('exit', (c) => resolve(c));
        worker.kill('SIGTERM');
      });
      expect(code).toBe(0);
    } finally {
      if (worker.exitCode === null) worker.kill('SIGKILL');
      await publisher.close();
      client.disconnect();
    }
  });
});
