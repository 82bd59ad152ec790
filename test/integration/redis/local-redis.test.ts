import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freeLoopbackPort } from '../../../src/localdev/net.ts';
import {
  missingRedisBinaries,
  probeRedis,
  type RunningRedis,
  startRedis,
} from '../../../src/localdev/redis.ts';

const started: RunningRedis[] = [];
const clients: Redis[] = [];

async function start(options?: Parameters<typeof startRedis>[0]): Promise<RunningRedis> {
  const redis = await startRedis(options);
  started.push(redis);
  return redis;
}

function client(redis: RunningRedis): Redis {
  // No retries/reconnects: a dead server must fail the test, not stall it.
  const c = new Redis(redis.url, { maxRetriesPerRequest: 0, retryStrategy: () => null, lazyConnect: true });
  c.on('error', () => undefined); // failures surface through the awaited commands
  clients.push(c);
  return c;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ESRCH') return false;
    throw error;
  }
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
});
afterAll(async () => {
  for (const r of started.splice(0)) await r.stop();
});

describe('startRedis', () => {
  it('the binary is installed (otherwise every test below fails with this hint)', () => {
    expect(missingRedisBinaries()).toEqual([]);
  });

  it('starts a configured server that answers PING through ioredis', async () => {
    const redis = await start();
    expect(redis.url).toBe(`redis://127.0.0.1:${redis.port}`);
    expect(alive(redis.pid)).toBe(true);
    const c = client(redis);
    expect(await c.ping()).toBe('PONG');
    expect(await c.config('GET', 'maxmemory-policy')).toEqual(['maxmemory-policy', 'noeviction']);
    expect(await c.config('GET', 'appendonly')).toEqual(['appendonly', 'no']);
    expect(await c.config('GET', 'save')).toEqual(['save', '']);
    expect(await c.config('GET', 'bind')).toEqual(['bind', '127.0.0.1']);
    expect(await c.config('GET', 'dir')).toEqual(['dir', redis.dir]);
    expect(Number(/process_id:(\d+)/.exec(await c.info('server'))?.[1])).toBe(redis.pid);
  });

  it('durable mode: acknowledged writes survive kill() and restart() on the same port and dir', async () => {
    const redis = await start({ durable: true });
    const before = client(redis);
    expect(await before.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
    await before.set('k', 'v');
    await before.rpush('list', 'a', 'b', 'c');
    before.disconnect();
    const { pid, port, dir } = redis;

    await redis.kill();
    expect(alive(pid)).toBe(false);
    await redis.restart();

    expect(redis.pid).not.toBe(pid);
    expect(redis.port).toBe(port);
    expect(redis.dir).toBe(dir);
    const after = client(redis);
    expect(await after.get('k')).toBe('v');
    expect(await after.lrange('list', 0, -1)).toEqual(['a', 'b', 'c']);
  });

  it('non-durable mode loses data on kill() (the durable test above is not vacuous)', async () => {
    const redis = await start();
    const c = client(redis);
    await c.set('k', 'v');
    c.disconnect();
    await redis.kill();
    await redis.restart();
    expect(await client(redis).get('k')).toBeNull();
  });

  it('restart() waits until a large AOF is loaded (no -LOADING reaches the caller)', async () => {
    const redis = await start({ durable: true });
    const c = client(redis);
    const keys = 100_000;
    for (let batch = 0; batch < keys; batch += 10_000) {
      const pipeline = c.pipeline();
      for (let i = batch; i < batch + 10_000; i++) pipeline.set(`key:${i}`, 'x'.repeat(64));
      await pipeline.exec();
    }
    c.disconnect();
    await redis.kill();
    await redis.restart();
    // Straight after restart(): a raw client without ioredis' ready check, so -LOADING would surface as an error.
    const raw = new Redis(redis.url, {
      enableReadyCheck: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    clients.push(raw);
    expect(await raw.dbsize()).toBe(keys);
  });

  it('stop() leaves no process and removes its temp dir; it is idempotent', async () => {
    const redis = await start();
    const { pid, dir } = redis;
    expect(existsSync(dir)).toBe(true);
    await redis.stop();
    expect(alive(pid)).toBe(false);
    expect(existsSync(dir)).toBe(false);
    await redis.stop();
    await expect(redis.restart()).rejects.toThrow(/after stop/);
    await expect(client(redis).ping()).rejects.toThrow();
  });

  it('stop() keeps a dir it was given, with the AOF in it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'given-redis-dir-'));
    try {
      const redis = await start({ dir, durable: true });
      await client(redis).set('k', 'v');
      await redis.stop();
      expect(readdirSync(dir)).toContain('appendonlydir');
      // A new server on the same dir recovers the data.
      const again = await start({ dir, durable: true });
      expect(await client(again).get('k')).toBe('v');
      await again.stop();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('honours a requested port', async () => {
    const port = await freeLoopbackPort();
    const redis = await start({ port });
    expect(redis.port).toBe(port);
    expect(await client(redis).ping()).toBe('PONG');
  });

  it.each([
    [
      'a port held by another redis-server',
      'busy-port',
      /failed to start.*\n--- output ---\n[\s\S]*Address already in use/,
    ],
    ['a dir that does not exist', 'bad-dir', /dir '.*' is not an existing directory/],
    ['redis-server missing from PATH', 'no-binary', /missing: redis-server \(apt-get install redis-server\)/],
  ])('fails clearly on %s', async (_, kind, message) => {
    const savedPath = process.env.PATH;
    try {
      let options: Parameters<typeof startRedis>[0] = {};
      if (kind === 'busy-port') options = { port: (await start()).port };
      if (kind === 'bad-dir')
        options = { dir: path.join(tmpdir(), 'no-such-dir-for-redis', String(process.pid)) };
      if (kind === 'no-binary') process.env.PATH = '/nonexistent';
      await expect(startRedis(options)).rejects.toThrow(message);
    } finally {
      process.env.PATH = savedPath;
    }
  });
});

describe('probeRedis against scripted servers', () => {
  /** A one-shot TCP server answering every connection with `reply` (or closing it when undefined). */
  async function scripted(reply: string | undefined): Promise<{ port: number; close: () => Promise<void> }> {
    const server = net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.once('data', () => (reply === undefined ? socket.destroy() : socket.end(reply)));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    return { port, close: () => new Promise((resolve) => server.close(() => resolve())) };
  }
  const info = (pid: number): string => {
    const body = `# Server\r\nredis_version:7.0.15\r\nprocess_id:${pid}\r\ntcp_port:6379\r\n`;
    return `$${body.length}\r\n${body}\r\n`;
  };

  it.each([
    ['PONG from the expected process', `+PONG\r\n${info(4242)}`, 4242, undefined],
    ['PONG, pid not checked', `+PONG\r\n${info(1)}`, undefined, undefined],
    ['still loading the AOF', '-LOADING Redis is loading the dataset in memory\r\n', 4242, /LOADING/],
    ['another process on the port', `+PONG\r\n${info(99)}`, 4242, /another redis-server \(pid 99\)/],
    ['auth required', '-NOAUTH Authentication required.\r\n', 4242, /NOAUTH/],
    ['not Redis at all', 'HTTP/1.1 400 Bad Request\r\n\r\n', 4242, /PING answered/],
    ['PONG then garbage', '+PONG\r\n*3\r\n', 4242, /unexpected INFO reply/],
    ['connection closed without a reply', undefined, 4242, /connection closed before a complete reply/],
    [
      'connection closed inside the INFO reply',
      `+PONG\r\n$500\r\nprocess_id:4242`,
      4242,
      /connection closed/,
    ],
  ])('%s', async (_, reply, pid, error) => {
    const server = await scripted(reply);
    try {
      const result = probeRedis(server.port, pid, 500);
      if (error) await expect(result).rejects.toThrow(error);
      else await expect(result).resolves.toBeUndefined();
    } finally {
      await server.close();
    }
  });

  it('times out on a server that never answers', async () => {
    // The connection is read (so the client's close is seen) but never answered.
    const server = net.createServer((socket) => socket.resume());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    try {
      await expect(probeRedis(port, 1, 100)).rejects.toThrow(/timed out/);
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
