/**
 * Loops over client-sized input that hand the event loop back every so often, so that one request
 * never stalls the others (issue 15: a 15,800-operation PATCH held it for 13 s).
 */

/** Items handled between two turns of the event loop: well under a millisecond of work each. */
export const ITEMS_PER_TURN = 200;

/** Lets the event loop run everything that is waiting (I/O callbacks included) before going on. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Calls `each` for every item in order, yielding to the event loop every `perTurn` items. */
export async function forEachInTurns<T>(
  items: readonly T[],
  each: (item: T, index: number) => void,
  perTurn = ITEMS_PER_TURN,
): Promise<void> {
  for (let i = 0; i < items.length; i++) {
    if (i > 0 && i % perTurn === 0) await nextTurn();
    each(items[i] as T, i);
  }
}
