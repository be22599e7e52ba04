import { describe, expect, it } from 'vitest';
import { histogram } from './load-timeline.ts';

describe('histogram', () => {
  it('counts values in log-spaced buckets up to the largest one', () => {
    expect(histogram([0.5, 1, 3, 3, 40])).toEqual({ upperMs: [1, 2, 5, 10, 20, 50], counts: [2, 0, 2, 0, 0, 1] });
  });

  it('takes a long run’s frames (half a million values) whole', () => {
    const values = Array.from({ length: 500_000 }, (_, i) => i % 1000);
    const { counts } = histogram(values);
    expect(counts.reduce((sum, n) => sum + n, 0)).toBe(values.length);
  });
});
