/** The fate records of keyed writes (jobs/write-fates.ts): what is read back, and what is not trusted. */
import { describe, expect, it } from 'vitest';
import { parseFate } from '../../../src/jobs/write-fates.ts';

describe('parseFate', () => {
  it.each([
    [
      'a pending record',
      '{"intentId":"i-1","fingerprint":"f"}',
      { state: 'pending', intentId: 'i-1', fingerprint: 'f' },
    ],
    [
      'a completed create',
      '{"completed":true,"fingerprint":"f","operation":"add","resourceType":"User","resourceId":"u-1"}',
      { state: 'completed', fingerprint: 'f', operation: 'add', resourceType: 'User', resourceId: 'u-1' },
    ],
    [
      'a completed delete',
      '{"completed":true,"fingerprint":"f","operation":"delete","resourceType":"Group","resourceId":"g"}',
      { state: 'completed', fingerprint: 'f', operation: 'delete', resourceType: 'Group', resourceId: 'g' },
    ],
  ])('%s', (_name, text, parsed) => {
    expect(parseFate(text)).toEqual(parsed);
  });

  it.each([
    ['no record', null],
    ['not JSON', '{"intentId":'],
    ['JSON null', 'null'],
    ['a number', '42'],
    ['no fingerprint', '{"intentId":"i-1"}'],
    ['a fingerprint that is not text', '{"intentId":"i-1","fingerprint":7}'],
    ['neither pending nor completed', '{"fingerprint":"f"}'],
    ['an intent id that is not text', '{"intentId":["i"],"fingerprint":"f"}'],
    [
      'an unknown operation',
      '{"completed":true,"fingerprint":"f","operation":"rename","resourceType":"User","resourceId":"u"}',
    ],
    [
      'completed without an id',
      '{"completed":true,"fingerprint":"f","operation":"add","resourceType":"User"}',
    ],
    [
      'completed with an empty id',
      '{"completed":true,"fingerprint":"f","operation":"add","resourceType":"User","resourceId":""}',
    ],
    ['completed without a type', '{"completed":true,"fingerprint":"f","operation":"add","resourceId":"u"}'],
  ])('%s: no record', (_name, text) => {
    expect(parseFate(text)).toBe(undefined);
  });
});
