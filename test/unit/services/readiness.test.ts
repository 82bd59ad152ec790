/**
 * /ready is public: a probe's own error text (which may name a URL, host or port) is kept for the
 * log, and the caller is told only what is down — unless the probe speaks of this instance's own
 * state (load shedding, draining), whose text names no location.
 */
import { describe, expect, it } from 'vitest';
import { checkReadiness, type Probe, readinessStatus } from '../../../src/services/readiness.ts';

const failing = (message: string, speaksPublicly?: boolean): Probe => ({
  name: 'probe',
  check: async () => {
    throw new Error(message);
  },
  ...(speaksPublicly === undefined ? {} : { speaksPublicly }),
});

describe('checkReadiness', () => {
  it.each([
    ['a failing probe hides its text', failing('cannot connect to ldap://10.1.2.3:389/'), 'not answering'],
    [
      'unless it speaks publicly',
      failing('shedding load: 3 requests in flight', true),
      'shedding load: 3 requests in flight',
    ],
    [
      'speaksPublicly false hides it too',
      failing('redis://secret-host:6379 refused', false),
      'not answering',
    ],
  ])('%s', async (_name, probe, shown) => {
    const report = await checkReadiness([probe], 500);
    expect(report.ready).toBe(false);
    expect(report.checks.probe).toMatchObject({ ok: false, error: shown });
    expect(report.checks.probe?.detail).not.toBe(undefined);
  });

  it('a probe that does not answer in time is reported as such', async () => {
    const hung: Probe = { name: 'slow', check: () => new Promise<void>(() => {}) };
    const report = await checkReadiness([hung], 20);
    expect(report.checks.slow).toMatchObject({ ok: false, error: 'no answer within 20 ms' });
  });

  it('all probes answering is ready, with the warnings passed on', async () => {
    const ok: Probe = { name: 'ok', check: async () => {} };
    const report = await checkReadiness([ok], 500, () => ['mapping reload failed']);
    expect(report).toMatchObject({
      ready: true,
      checks: { ok: { ok: true } },
      warnings: ['mapping reload failed'],
    });
  });

  const ok = (name: string): Probe => ({ name, check: async () => {} });
  const down = (name: string, degradesOnly?: boolean): Probe => ({
    name,
    check: async () => {
      throw new Error(`${name} refused`);
    },
    ...(degradesOnly === undefined ? {} : { degradesOnly }),
  });

  it.each([
    ['everything answers', [ok('directory'), ok('redis')], [], true, 'ready'],
    ['only a degrading probe fails', [ok('directory'), down('redis', true)], [], true, 'degraded'],
    ['a warning alone', [ok('directory'), ok('redis')], ['mapping reload failed'], true, 'degraded'],
    ['an essential probe fails', [down('directory'), ok('redis')], [], false, 'cannot serve'],
    ['degradesOnly false is essential', [ok('directory'), down('redis', false)], [], false, 'cannot serve'],
    ['both fail', [down('directory'), down('redis', true)], [], false, 'cannot serve'],
  ] as const)('%s: %s', async (_name, probes, warnings, ready, status) => {
    const report = await checkReadiness([...probes], 500, () => [...warnings]);
    expect(report.ready).toBe(ready);
    expect(readinessStatus(report)).toBe(status);
  });

  it("a probe's own shorter bound applies", async () => {
    const hung: Probe = {
      name: 'redis',
      check: () => new Promise<void>(() => {}),
      timeoutMs: 20,
      degradesOnly: true,
    };
    const report = await checkReadiness([hung, ok('directory')], 5_000);
    expect(report.checks.redis).toMatchObject({
      ok: false,
      error: 'no answer within 20 ms',
      degradesOnly: true,
    });
    expect(readinessStatus(report)).toBe('degraded');
  });
});
