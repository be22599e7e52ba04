/** Significant digits of a score that ranking looks at: beyond them, float rounding depends on the order an index was built in. */
const SCORE_DIGITS = 10;

/**
 * Hits sorted best first, equal scores (to SCORE_DIGITS digits) by chunk id: so that two workers
 * whose indexes took the same chunks in a different order rank them the same.
 */
export function stableRanking<T extends { chunkId: string; score: number }>(hits: readonly T[]): T[] {
  const keyed = hits.map((hit) => ({ hit, key: Number(hit.score.toPrecision(SCORE_DIGITS)) }));
  keyed.sort((a, b) => b.key - a.key || (a.hit.chunkId < b.hit.chunkId ? -1 : a.hit.chunkId > b.hit.chunkId ? 1 : 0));
  return keyed.map(({ hit }) => hit);
}
