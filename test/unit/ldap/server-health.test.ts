/** The health state machine of one directory server (src/ldap/server-health.ts), as tables of steps. */
import { describe, expect, it } from 'vitest';
import { type ProbePolicy, ServerHealth } from '../../../src/ldap/server-health.ts';

type Step = { failed: number; reason?: string } | { probeFailed: string } | { answered: number };

interface Case {
  name: string;
  steps: Step[];
  /** What each step returned (failed/answered: whether the state changed; probeFailed: undefined). */
  changed: Array<boolean | undefined>;
  state: 'up' | 'down';
  since: number;
  reason: string | undefined;
}

const cases: Case[] = [
  { name: 'new: up since construction', steps: [], changed: [], state: 'up', since: 1000, reason: undefined },
  {
    name: 'a failure takes it down, with its reason and time',
    steps: [{ failed: 1500, reason: 'ECONNREFUSED' }],
    changed: [true],
    state: 'down',
    since: 1500,
    reason: 'ECONNREFUSED',
  },
  {
    name: 'a second failure while down changes nothing (since stays the first)',
    steps: [
      { failed: 1500, reason: 'first' },
      { failed: 1800, reason: 'second' },
    ],
    changed: [true, false],
    state: 'down',
    since: 1500,
    reason: 'first',
  },
  {
    name: 'a failed probe keeps it down and records the probe reason',
    steps: [{ failed: 1500, reason: 'closed' }, { probeFailed: 'timed out' }],
    changed: [true, undefined],
    state: 'down',
    since: 1500,
    reason: 'timed out',
  },
  {
    name: 'an answer takes it back up (fail-back)',
    steps: [{ failed: 1500 }, { probeFailed: 'x' }, { answered: 2500 }],
    changed: [true, undefined, true],
    state: 'up',
    since: 2500,
    reason: undefined,
  },
  {
    name: 'an answer while up changes nothing',
    steps: [{ answered: 2000 }],
    changed: [false],
    state: 'up',
    since: 1000,
    reason: undefined,
  },
  {
    name: 'a failed probe while up is ignored (a late probe result)',
    steps: [{ probeFailed: 'late' }],
    changed: [undefined],
    state: 'up',
    since: 1000,
    reason: undefined,
  },
  {
    name: 'down, up, down again: since is the latest fall',
    steps: [{ failed: 1100 }, { answered: 1200 }, { failed: 1300, reason: 'again' }],
    changed: [true, true, true],
    state: 'down',
    since: 1300,
    reason: 'again',
  },
];

function apply(health: ServerHealth, step: Step): boolean | undefined {
  if ('failed' in step) return health.failed(step.failed, step.reason ?? 'failure');
  if ('answered' in step) return health.answered(step.answered);
  health.probeFailed(step.probeFailed);
  return undefined;
}

describe('ServerHealth transitions', () => {
  it.each(cases)('$name', ({ steps, changed, state, since, reason }) => {
    const health = new ServerHealth(1000);
    expect(steps.map((step) => apply(health, step))).toEqual(changed);
    expect({ state: health.state, since: health.since, reason: health.reason }).toEqual({
      state,
      since,
      reason,
    });
  });
});

describe('ServerHealth probe backoff', () => {
  const policy: ProbePolicy = { probeInitialMs: 100, probeMaxMs: 1000 };
  it.each([
    { failedProbes: 0, policy, wait: 100 },
    { failedProbes: 1, policy, wait: 200 },
    { failedProbes: 2, policy, wait: 400 },
    { failedProbes: 3, policy, wait: 800 },
    { failedProbes: 4, policy, wait: 1000 },
    { failedProbes: 60, policy, wait: 1000 },
    // A maximum below the first wait: the first wait is the bound.
    { failedProbes: 3, policy: { probeInitialMs: 500, probeMaxMs: 100 }, wait: 500 },
    // A zero first wait (not allowed by the schema, minimum 1) still waits.
    { failedProbes: 0, policy: { probeInitialMs: 0, probeMaxMs: 100 }, wait: 1 },
  ])('after $failedProbes failed probes: $wait ms', ({ failedProbes, policy: p, wait }) => {
    const health = new ServerHealth(0);
    health.failed(1, 'down');
    for (let i = 0; i < failedProbes; i++) health.probeFailed('no answer');
    expect(health.nextProbeInMs(p)).toBe(wait);
  });

  it('the backoff starts over after the server came back and failed again', () => {
    const health = new ServerHealth(0);
    health.failed(1, 'down');
    for (let i = 0; i < 5; i++) health.probeFailed('no answer');
    health.answered(2);
    health.failed(3, 'down again');
    expect(health.nextProbeInMs(policy)).toBe(100);
  });
});
