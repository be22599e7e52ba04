import type { TestFunction } from 'vitest';
import { describe, expect, it } from 'vitest';

/** Contract cases a server cannot pass, by exact test title, with the reason. */
export type UnsupportedCases = Readonly<Record<string, string>>;

/**
 * An `it` that skips the cases named in `unsupported`, with the reason in the skipped test's name and
 * on stderr, and that checks every name matches a case (a renamed case is never skipped by accident).
 */
export function itUnlessUnsupported(unsupported: UnsupportedCases = {}) {
  const names = Object.keys(unsupported);
  const seen = new Set<string>();
  if (names.length > 0) {
    describe('skipped contract cases', () => {
      it('name cases of the contract', () => {
        expect(names.filter((name) => !seen.has(name))).toEqual([]);
      });
    });
  }
  return (title: string, fn: TestFunction, timeout?: number): void => {
    const reason = unsupported[title];
    if (reason === undefined) {
      it(title, fn, timeout);
      return;
    }
    seen.add(title);
    console.warn(`SKIPPED "${title}": ${reason}`);
    it.skip(`${title} [skipped: ${reason}]`, fn);
  };
}
