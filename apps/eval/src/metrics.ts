export interface QuestionResult {
  id: string;
  /** Retrieved paragraphs' indexes in the documents file, best first. */
  retrieved: number[];
  answer: string;
  gold: number | undefined;
  answers: string[];
  stageMs: Record<string, number>;
}

export interface Scores {
  questions: number;
  hit_at_1: number;
  hit_at_5: number;
  mrr_at_10: number;
  answer_recall: number;
}

function normalise(text: string): string {
  return text.normalize('NFC').toLowerCase().replace(/\s+/g, ' ').trim();
}

export function containsGoldAnswer(answer: string, golds: string[]): boolean {
  const haystack = normalise(answer);
  return golds.some((gold) => normalise(gold).length > 0 && haystack.includes(normalise(gold)));
}

export function score(results: QuestionResult[]): Scores {
  let hit1 = 0;
  let hit5 = 0;
  let mrr = 0;
  let recall = 0;
  for (const result of results) {
    const rank = result.gold === undefined ? -1 : result.retrieved.indexOf(result.gold);
    if (rank === 0) hit1 += 1;
    if (rank >= 0 && rank < 5) hit5 += 1;
    if (rank >= 0 && rank < 10) mrr += 1 / (rank + 1);
    if (containsGoldAnswer(result.answer, result.answers)) recall += 1;
  }
  const n = Math.max(results.length, 1);
  const round = (value: number): number => Number((value / n).toFixed(4));
  return { questions: results.length, hit_at_1: round(hit1), hit_at_5: round(hit5), mrr_at_10: round(mrr), answer_recall: round(recall) };
}

/** Nearest-rank percentile. */
export function percentile(values: number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))] ?? Number.NaN;
}
