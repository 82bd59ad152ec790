/**
 * src/lib/deadline.ts: the request deadline as a plain `deadlineAt` value (docs/architecture.md
 * §Deadlines). Deadlines here are either long past or far away (an hour), so no case depends on
 * how fast the machine is.
 */
import { describe, expect, it } from 'vitest';
import {
  bounded,
  checkDeadline,
  DeadlineExceededError,
  deadlineIn,
  pauseWithin,
  remainingMs,
} from '../../../src/lib/deadline.ts';

const HOUR_MS = 3_600_000;
const past = () => performance.now() - 1;
const far = () => performance.now() + HOUR_MS;
const never = () => new Promise<never>(() => undefined);

describe('remainingMs and deadlineIn', () => {
  it('no deadline: undefined', () => {
    expect(remainingMs(undefined)).toBeUndefined();
  });

  it('a deadline an hour away has time left, at most an hour', () => {
    const left = remainingMs(deadlineIn(HOUR_MS));
    expect(left).toBeGreaterThan(0);
    expect(left).toBeLessThanOrEqual(HOUR_MS);
  });

  it('a passed deadline has no time left', () => {
    expect(remainingMs(past())).toBeLessThan(0);
  });
});

describe('checkDeadline', () => {
  it.each([
    ['no deadline', undefined],
    ['a far deadline', far()],
  ])('%s: does not throw', (_, deadlineAt) => {
    expect(() => checkDeadline(deadlineAt, 'a search')).not.toThrow();
  });

  it('a passed deadline: DeadlineExceededError, nothing sent, naming the operation', () => {
    const error = (() => {
      try {
        checkDeadline(past(), 'a search');
      } catch (caught) {
        return caught;
      }
    })();
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).requestSent).toBe(false);
    expect((error as Error).message).toBe("the request's deadline passed before a search");
  });
});

describe('bounded', () => {
  it.each([
    ['no deadline', undefined, Number.POSITIVE_INFINITY],
    ['a deadline further away than the operation’s own bound', far(), 1_000],
  ])('%s: the operation itself, no race armed', (_, deadlineAt, boundedWithinMs) => {
    const operation = Promise.resolve('answer');
    expect(bounded(operation, deadlineAt, 'a search', boundedWithinMs)).toBe(operation);
  });

  it('a far deadline without an own bound: the operation’s answer', async () => {
    await expect(bounded(Promise.resolve('answer'), far(), 'a search')).resolves.toBe('answer');
  });

  it('a far deadline: the operation’s failure', async () => {
    await expect(bounded(Promise.reject(new Error('refused')), far(), 'a search')).rejects.toThrow('refused');
  });

  it('a passed deadline while the operation hangs: DeadlineExceededError, sent', async () => {
    const error = await bounded(never(), past(), 'a search').catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).requestSent).toBe(true);
    expect((error as Error).message).toBe("the request's deadline passed during a search");
  });

  it('a deadline closer than the operation’s own bound is raced', async () => {
    const deadlineAt = performance.now() + 1;
    const error = await bounded(never(), deadlineAt, 'a search', HOUR_MS).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(DeadlineExceededError);
  });
});

describe('pauseWithin', () => {
  it('a deadline closer than the pause: rejects at once, nothing sent', async () => {
    const error = await pauseWithin(HOUR_MS, performance.now() + 10, 'a retry').catch(
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect((error as DeadlineExceededError).requestSent).toBe(false);
  });

  it.each([
    ['no deadline', undefined],
    ['a far deadline', far()],
  ])('%s: resolves after the pause', async (_, deadlineAt) => {
    await expect(pauseWithin(1, deadlineAt, 'a retry')).resolves.toBeUndefined();
  });
});
