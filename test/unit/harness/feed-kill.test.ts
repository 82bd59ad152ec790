/** The kill tests' order check (test/harness/feed-kill.ts foldedInOrder), by cases. */
import { describe, expect, it } from 'vitest';
import { foldedInOrder } from '../../harness/feed-kill.ts';

const SEQUENCE = ['title', 'displayName', 'phone', 'title', 'displayName'];

describe('foldedInOrder', () => {
  it.each([
    ['one event per change', [['title'], ['displayName'], ['phone'], ['title'], ['displayName']], true],
    ['consecutive changes folded', [['displayName', 'title'], ['phone'], ['displayName', 'title']], true],
    ['everything folded (each attribute named once)', [['displayName', 'phone', 'title']], true],
    [
      'a segment repeated (at least once)',
      [['title'], ['title'], ['displayName', 'phone'], ['displayName', 'phone', 'title'], ['displayName']],
      true,
    ],
    ['the last change missing', [['title'], ['displayName'], ['phone'], ['title']], false],
    ['out of order', [['displayName'], ['title'], ['phone'], ['title'], ['displayName']], false],
    [
      'an attribute never changed',
      [
        ['title', 'mail'],
        ['displayName', 'phone', 'title'],
      ],
      false,
    ],
    [
      'a fold that skips a change',
      [
        ['title', 'phone'],
        ['title', 'displayName'],
      ],
      false,
    ],
    ['nothing delivered', [], false],
  ])('%s', (_, events, ok) => {
    expect(foldedInOrder(SEQUENCE, events) === undefined).toBe(ok);
  });
});
