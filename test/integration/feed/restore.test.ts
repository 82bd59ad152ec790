/**
 * Disaster recovery (issue 19): the directory restored from an older backup (slapcat, then
 * slapadd into a fresh database, the change log starting empty). The feed notices that the log no
 * longer holds its position, reconciles, and the receiver is told exactly the differences between
 * what it was told and what the restored directory holds. The `reconcile` command, on a service
 * that was never told anything, lists every entry with --dry-run, publishes nothing then, and
 * publishes exactly those on a real run.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Attribute, Change, Client } from 'ldapts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../src/config/index.ts';
import { resolveSecrets, startWorkers } from '../../../src/jobs/index.ts';
import { redisConnector } from '../../../src/redis-clients.ts';
import { startTestBridge, type TestBridge } from '../../harness/bridge.ts';
import { type Receiver, startReceiver } from '../jobs/receiver.ts';

const execFileAsync = promisify(execFile);
const repoRoot = path.resolve(import.meta.dirname, '../../..');
const SECRET = 'test-webhook-secret-0123456789';
const BOUND_MS = 15_000;

let t: TestBridge;
let receiver: Receiver;
let root: Client;
let people: string;
let backupDir: string;

async function idOf(dn: string): Promise<string> {
  const { searchEntries } = await root.search(dn, { scope: 'base', attributes: ['entryUUID'] });
  return String(searchEntries[0]?.entryUUID).toLowerCase();
}

function summary(from: number) {
  return receiver
    .accepted()
    .slice(from)
    .map((d) => `${d.event.change} ${d.event.resourceId} ${d.event.changedAttributes.join(',')}`)
    .sort();
}

async function bindRoot(): Promise<void> {
  const slapd = t.bridge.local?.slapd;
  if (!slapd) throw new Error('the restore test needs the throwaway slapd');
  root = new Client({ url: slapd.url });
  await root.bind(slapd.rootDn, slapd.rootPassword);
}

function servicesJson(names: string[]): string {
  return JSON.stringify(
    names.map((name) => ({ name, url: receiver.url, secret: SECRET, ratePerSecond: 1000 })),
  );
}

beforeAll(async () => {
  receiver = await startReceiver(SECRET);
  backupDir = await mkdtemp(path.join(tmpdir(), 'feed-backup-'));
  t = await startTestBridge({
    env: {
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_SERVICES: servicesJson(['hook']),
      SCIM_BRIDGE_FEED_ENABLED: 'true',
      SCIM_BRIDGE_FEED_POLL_INTERVAL_MS: '50',
    },
  });
  await bindRoot();
  people = `ou=People,${t.bridge.local?.slapd?.suffix}`;
  await receiver.waitFor(() => t.bridge.feed?.status().position !== undefined, BOUND_MS, 'the feed to start');
});
afterAll(async () => {
  await root?.unbind().catch(() => undefined);
  await t?.stop();
  await receiver?.close();
  await rm(backupDir, { recursive: true, force: true });
});

describe('restore from an older backup', () => {
  it('the feed sees the lost position, reconciles, and publishes exactly the differences', async () => {
    const feed = t.bridge.feed;
    const slapd = t.bridge.local?.slapd;
    if (!feed || !slapd?.backup || !slapd.restore) throw new Error('needs the feed and a local slapd');
    // The service is told about every entry once (a first reconciliation), then the backup is taken.
    const first = await feed.reconcile({});
    expect(first.hook?.created).toBe(7); // 5 users, 2 groups in the sample directory
    await receiver.waitFor(() => receiver.accepted().length >= 7, BOUND_MS, 'the first reconciliation');
    const backup = path.join(backupDir, 'backup.ldif');
    await slapd.backup(backup);

    // Changed since the backup, and delivered by the feed (which records what the service was told).
    const newcomer = `uid=feed-newcomer,${people}`;
    await root.add(newcomer, { objectClass: ['inetOrgPerson'], uid: 'feed-newcomer', cn: 'N', sn: 'N' });
    const newcomerId = await idOf(newcomer);
    const bob = `uid=bob,${people}`;
    const bobId = await idOf(bob);
    await root.modify(bob, [
      new Change({ operation: 'replace', modification: new Attribute({ type: 'title', values: ['Chief'] }) }),
    ]);
    const carolId = await idOf(`uid=carol,${people}`);
    await root.del(`uid=carol,${people}`);
    await receiver.waitFor(() => receiver.accepted().length >= 10, BOUND_MS, 'the direct changes');

    const before = receiver.accepted().length;
    await root.unbind().catch(() => undefined);
    await slapd.restore(backup);
    await bindRoot();
    await receiver.waitFor(
      () => (t.bridge.feed?.status().reconciliations ?? 0) >= 1,
      BOUND_MS,
      'the gap reconciliation',
    );
    await receiver.waitFor(() => receiver.accepted().length >= before + 3, BOUND_MS, 'the differences');
    await new Promise((resolve) => setTimeout(resolve, 500)); // anything more would arrive now
    const differences = summary(before);
    expect(differences).toHaveLength(3);
    expect(differences).toContain(`deleted ${newcomerId} `);
    expect(differences).toContain(`updated ${bobId} title`);
    // carol is back as she was: created again, with every attribute the service must now hold
    expect(differences.find((line) => line.startsWith(`created ${carolId} `))).toMatch(/\buserName\b/);
  });

  it('reconcile --dry-run lists what a new service was never told, publishes nothing; a real run publishes exactly that', async () => {
    const slapd = t.bridge.local?.slapd;
    const redis = t.bridge.local?.redis;
    if (!slapd || !redis) throw new Error('needs the local services');
    const env = {
      ...process.env,
      SCIM_BRIDGE_LDAP_URL: slapd.url,
      SCIM_BRIDGE_LDAP_BIND_DN: slapd.serviceDn,
      SCIM_BRIDGE_LDAP_BIND_PASSWORD: slapd.servicePassword,
      SCIM_BRIDGE_REDIS_URL: redis.url,
      SCIM_BRIDGE_EVENTS_ENABLED: 'true',
      SCIM_BRIDGE_EVENTS_SERVICES: servicesJson(['hook', 'late']),
      SCIM_BRIDGE_LOG_LEVEL: 'silent',
    };
    const cli = (args: string[]) =>
      execFileAsync(
        path.join(repoRoot, 'node_modules/.bin/node'),
        ['src/cli/main.ts', 'reconcile', ...args],
        { cwd: repoRoot, env },
      );
    const before = receiver.accepted().length;
    const dry = await cli(['--service', 'late', '--dry-run']);
    const lines = dry.stdout.trim().split('\n');
    expect(lines).toHaveLength(7); // 5 users (carol back, newcomer gone) and 2 groups
    expect(lines.every((line) => line.startsWith('late\tcreated\t'))).toBe(true);
    expect(dry.stderr).toContain('late: 7 created, 0 updated, 0 deleted, 0 unchanged (dry run');
    const real = await cli(['--service', 'late']);
    expect(real.stderr).toContain('late: 7 created, 0 updated, 0 deleted, 0 unchanged');
    // Delivered by workers for the late service (the bridge's own workers serve only "hook"): the
    // dry run queued nothing, so exactly the real run's seven arrive.
    const config = loadConfig({ env: { SCIM_BRIDGE_EVENTS_SERVICES: servicesJson(['late']) } });
    const workers = startWorkers({
      connect: redisConnector(config, redis.url),
      keyPrefix: config.redis.keyPrefix,
      events: config.events,
      secrets: resolveSecrets(config.events.services),
    });
    try {
      await receiver.waitFor(() => receiver.accepted().length >= before + 7, BOUND_MS, 'the late service');
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(receiver.accepted().length).toBe(before + 7);
    } finally {
      await workers.close();
    }
    const again = await cli(['--service', 'late', '--dry-run']);
    expect(again.stdout).toBe('');
    expect(again.stderr).toContain('late: 0 created, 0 updated, 0 deleted, 7 unchanged');
  });
});
