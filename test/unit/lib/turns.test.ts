/** lib/turns.ts: loops that hand the event loop back between chunks, in order, all items once. */
import { describe, expect, it } from 'vitest';
import { forEachInTurns } from '../../../src/lib/turns.ts';

describe('forEachInTurns', () => {
  it.each([
    [0, 3, 0],
    [1, 3, 0],
    [3, 3, 0],
    [4, 3, 1],
    [7, 3, 2],
    [9, 3, 2],
  ])(
    '%i items, %i per turn: every item once, in order, %i turns handed back',
    async (count, perTurn, turns) => {
      const seen: string[] = [];
      let ticks = 0;
      // A task queued on the event loop runs only when the loop is handed back.
      const tick = () => {
        ticks += 1;
        seen.push('tick');
        if (ticks <= count) setImmediate(tick);
      };
      setImmediate(tick);
      await forEachInTurns(
        Array.from({ length: count }, (_, i) => i),
        (item, index) => {
          expect(index).toBe(item);
          seen.push(String(item));
        },
        perTurn,
      );
      const items = seen.filter((s) => s !== 'tick');
      expect(items).toEqual(Array.from({ length: count }, (_, i) => String(i)));
      // Between two chunks at least one tick ran; within a chunk none.
      const chunks = seen
        .join(',')
        .split(/(?:,?tick)+,?/)
        .filter((c) => c !== '');
      expect(chunks.length).toBe(count === 0 ? 0 : turns + 1);
    },
  );

  it('an error in one item stops the loop there', async () => {
    const seen: number[] = [];
    await expect(
      forEachInTurns(
        [1, 2, 3, 4, 5],
        (item) => {
          if (item === 4) throw new Error('four');
          seen.push(item);
        },
        2,
      ),
    ).rejects.toThrow('four');
    expect(seen).toEqual([1, 2, 3]);
  });
});
