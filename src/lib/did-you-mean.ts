/**
 * "Did you mean …?" for the admin's typos (settings, environment variables, SCIM attributes in
 * mappings, LDAP attribute names): the known names nearest to an unknown one. Import-free so every
 * layer may use it (docs/architecture.md §Layers).
 */

export interface NearestOptions {
  /** The farthest edit distance still offered; farther names are not plausible typos. */
  maxDistance?: number;
  /** How many equally near names to return at most (default 1). */
  limit?: number;
}

/**
 * The default reach: one edit for short names (a typo in "sn" is not "st"), one more per three
 * letters, at most three.
 */
export function defaultMaxDistance(word: string): number {
  return Math.max(1, Math.min(3, Math.floor(word.length / 3)));
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of two
 * adjacent letters ("mial" is one edit from "mail"), each counting one.
 */
export function editDistance(a: string, b: string): number {
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d = Math.min(d, beforePrevious[j - 2]! + 1);
      }
      current[j] = d;
    }
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/**
 * The candidates nearest to `word`, compared without regard to case, when any is within
 * `maxDistance`: all equally near ones in the candidates' order, up to `limit`, each spelled as the
 * candidate spells it (the first spelling when two differ only in case).
 */
export function nearestNames(
  word: string,
  candidates: Iterable<string>,
  options: NearestOptions = {},
): string[] {
  const lower = word.toLowerCase();
  const maxDistance = options.maxDistance ?? defaultMaxDistance(word);
  let best = Number.POSITIVE_INFINITY;
  let found: string[] = [];
  const seen = new Set<string>();
  for (const candidate of candidates) {
    const key = candidate.toLowerCase();
    if (seen.has(key)) continue;
    seen.add(key);
    const distance = editDistance(lower, key);
    if (distance > maxDistance) continue;
    if (distance < best) {
      best = distance;
      found = [candidate];
    } else if (distance === best) found.push(candidate);
  }
  return found.slice(0, options.limit ?? 1);
}

/** The one nearest candidate (the first of equally near ones), when it is a plausible typo. */
export function didYouMean(
  word: string,
  candidates: Iterable<string>,
  maxDistance?: number,
): string | undefined {
  return nearestNames(word, candidates, maxDistance === undefined ? {} : { maxDistance })[0];
}
