/**
 * Suites that need software npm does not install (Samba AD DC, 389-DS, openssl) run wherever it
 * is there. Where it is not, a developer machine skips them and says why; CI (`CI` set) fails
 * instead, because .ci/run installs all of it and a directory that no CI run tests breaks unseen.
 */
import { describe, it } from 'vitest';

/** CI services set CI=true (or 1); CI=false or an empty CI means a developer machine. */
export const inCi = (process.env.CI ?? '') !== '' && process.env.CI !== 'false' && process.env.CI !== '0';

/**
 * The `describe.skipIf` argument for `suite`, given what it needs that is `missing`. In CI a
 * missing item adds a failing test that names it; elsewhere the reason is printed.
 */
export function skipWithout(suite: string, missing: readonly string[]): boolean {
  if (missing.length === 0) return false;
  const reason = `"${suite}" needs ${missing.join(', ')}`;
  if (inCi) {
    describe(suite, () => {
      it('has everything it needs installed (CI runs every suite: see .ci/run)', () => {
        throw new Error(`${reason}: CI must not skip it`);
      });
    });
  } else {
    console.warn(`skipped: ${reason}`);
  }
  return true;
}
