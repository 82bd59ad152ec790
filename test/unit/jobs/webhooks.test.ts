import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { decide } from '../../../src/jobs/journal.ts';
import { matchesEventType } from '../../../src/jobs/publisher.ts';
import {
  backoffDelay,
  DeliveryError,
  parseRetryAfter,
  sign,
  verifySignature,
} from '../../../src/jobs/webhooks.ts';
import type { ChangeIntent } from '../../../src/ports/events.ts';

describe('signature', () => {
  it('is sha256=<hex HMAC-SHA256(secret, timestamp.body)>, verified in constant time with a tolerance', () => {
    const body = '{"eventId":"e1"}';
    const expected = createHmac('sha256', 'k').update(`1700000000.${body}`).digest('hex');
    expect(sign('k', '1700000000', body)).toBe(`sha256=${expected}`);
    expect(verifySignature('k', '1700000000', body, `sha256=${expected}`, 300, 1700000100)).toBe(true);
    expect(verifySignature('k', '1700000000', `${body} `, `sha256=${expected}`, 300, 1700000100)).toBe(false);
    expect(verifySignature('other', '1700000000', body, `sha256=${expected}`, 300, 1700000100)).toBe(false);
    expect(verifySignature('k', '1700000000', body, `sha256=${expected}`, 300, 1700000301)).toBe(false);
    expect(verifySignature('k', 'x', body, `sha256=${expected}`)).toBe(false);
  });
});

describe('retries', () => {
  it('backoff doubles with equal jitter and is capped; Retry-After wins (capped too)', () => {
    expect(backoffDelay(1, 1000, 60_000, undefined, () => 0)).toBe(500);
    expect(backoffDelay(1, 1000, 60_000, undefined, () => 1)).toBe(1000);
    expect(backoffDelay(4, 1000, 60_000, undefined, () => 1)).toBe(8000);
    expect(backoffDelay(30, 1000, 60_000, undefined, () => 1)).toBe(60_000);
    const limited = new DeliveryError('429', { status: 429, permanent: false, retryAfterMs: 7000 });
    expect(backoffDelay(1, 1000, 60_000, limited)).toBe(7000);
    expect(backoffDelay(1, 1000, 5000, limited)).toBe(5000);
  });

  it('Retry-After as seconds or HTTP date', () => {
    expect(parseRetryAfter('3')).toBe(3000);
    expect(parseRetryAfter(new Date(10_000).toUTCString(), 4000)).toBe(6000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(null)).toBeUndefined();
  });
});

describe('event type patterns', () => {
  it.each([
    [['*'], 'user.created', true],
    [['user.*'], 'user.deactivated', true],
    [['user.*'], 'group.created', false],
    [['*.deleted'], 'group.deleted', true],
    [['group.member_added'], 'group.member_added', true],
    [['group.member_added'], 'group.member_removed', false],
  ] as const)('%j matches %s: %s', (patterns, type, result) => {
    expect(matchesEventType(patterns, type)).toBe(result);
  });
});

describe('recovery decision', () => {
  const base = { resourceType: 'User', actor: 'a', events: [] };
  const probeOf =
    (entries: Record<string, { id: string; version?: string }>) => async (_: string, dn: string) =>
      entries[dn];
  it.each<[string, ChangeIntent, Record<string, { id: string; version?: string }>, string | undefined]>([
    ['add that happened', { ...base, operation: 'add', dn: 'uid=a' }, { 'uid=a': { id: 'id-a' } }, 'id-a'],
    ['add that did not', { ...base, operation: 'add', dn: 'uid=a' }, {}, undefined],
    ['delete that happened', { ...base, operation: 'delete', dn: 'uid=a', resourceId: 'id-a' }, {}, 'id-a'],
    [
      'delete that did not',
      { ...base, operation: 'delete', dn: 'uid=a', resourceId: 'id-a' },
      { 'uid=a': { id: 'id-a' } },
      undefined,
    ],
    [
      'modify that changed the version',
      { ...base, operation: 'modify', dn: 'uid=a', resourceId: 'id-a', versionBefore: 'v1' },
      { 'uid=a': { id: 'id-a', version: 'v2' } },
      'id-a',
    ],
    [
      'modify that did not',
      { ...base, operation: 'modify', dn: 'uid=a', resourceId: 'id-a', versionBefore: 'v1' },
      { 'uid=a': { id: 'id-a', version: 'v1' } },
      undefined,
    ],
    [
      'rename that happened',
      { ...base, operation: 'modify', dn: 'uid=a', newDn: 'uid=b', resourceId: 'id-a', versionBefore: 'v1' },
      { 'uid=b': { id: 'id-a', version: 'v2' } },
      'id-a',
    ],
  ])('%s', async (_, intent, entries, expected) => {
    expect(await decide(intent, probeOf(entries))).toBe(expected);
  });
});
