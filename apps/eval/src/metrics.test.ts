import { describe, expect, it } from 'vitest';
import { containsGoldAnswer, percentile, score } from './metrics.ts';

describe('eval metrics', () => {
  it('computes hit@k, MRR@10 and answer recall', () => {
    const base = { answers: ['308'], stageMs: {} };
    const scores = score([
      { ...base, id: 'a', retrieved: [3, 1], gold: 3, answer: 'They gave up 308 points.' },
      { ...base, id: 'b', retrieved: [0, 1, 2, 3, 4, 5], gold: 5, answer: 'no idea' },
      { ...base, id: 'c', retrieved: [9, 8, 7, 6, 5], gold: 6, answer: '308' },
      { ...base, id: 'd', retrieved: [], gold: 1, answer: '' },
    ]);
    expect(scores).toEqual({
      questions: 4,
      hit_at_1: 0.25,
      hit_at_5: 0.5,
      mrr_at_10: Number(((1 + 1 / 6 + 1 / 4) / 4).toFixed(4)),
      answer_recall: 0.5,
    });
  });

  it('matches gold answers case- and space-insensitively, in Devanagari too', () => {
    expect(containsGoldAnswer('The  Denver Broncos won', ['denver broncos'])).toBe(true);
    expect(containsGoldAnswer('डेनवर ब्रोंकोस ने जीता', ['डेनवर ब्रोंकोस'])).toBe(true);
    expect(containsGoldAnswer('Carolina', ['Denver'])).toBe(false);
  });

  it('takes nearest-rank percentiles', () => {
    expect(percentile([5, 1, 3, 2, 4], 50)).toBe(3);
    expect(percentile([5, 1, 3, 2, 4], 100)).toBe(5);
  });
});
