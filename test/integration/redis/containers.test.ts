import { describe, expect, it } from 'vitest';
import { containerRuntimeAvailable, startRedisContainer } from '../../../src/localdev/containers.ts';

describe('containerRuntimeAvailable', () => {
  it('answers within the probe bound (2 s + the lazy import) and caches the answer', async () => {
    const t0 = Date.now();
    const first = containerRuntimeAvailable();
    const answer = await first;
    expect(typeof answer).toBe('boolean');
    expect(Date.now() - t0).toBeLessThan(4000);
    expect(containerRuntimeAvailable()).toBe(first);
    const t1 = Date.now();
    expect(await containerRuntimeAvailable()).toBe(answer);
    expect(Date.now() - t1).toBeLessThan(50);
  });

  it('without a runtime, startRedisContainer fails fast instead of hanging', async () => {
    if (await containerRuntimeAvailable()) {
      // With Docker/Podman present the real path runs instead; keep this test meaningful there too.
      const redis = await startRedisContainer();
      try {
        expect(redis.url).toMatch(/^redis:\/\/.+:\d+$/);
      } finally {
        await redis.stop();
      }
      return;
    }
    const t0 = Date.now();
    await expect(startRedisContainer()).rejects.toThrow(/container runtime/i);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
