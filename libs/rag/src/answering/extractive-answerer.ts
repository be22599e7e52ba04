import type { SupportedLanguage } from '../language.ts';
import { foldSpelling } from '../retrieval/spelling-fold.ts';
import { sentenceSpans } from '../text-spans.ts';
import { contentTokens, stemToken } from '../tokenizer.ts';
import type { AnswerType } from './answer-type.ts';
import { answerTypeEvidence, answerTypeOf } from './answer-type.ts';

/** A retrieved passage, best first. */
export interface AnswerPassage {
  chunkId: string;
  documentId: string;
  text: string;
  title?: string;
  language?: SupportedLanguage;
}

export interface AnswerSentence {
  text: string;
  chunkId: string;
  documentId: string;
  score: number;
}

export interface ExtractiveAnswer {
  /** The chosen sentences joined by a space, in passage order. */
  text: string;
  sentences: AnswerSentence[];
  answerType: AnswerType;
}

export interface ExtractiveAnswerOptions {
  /** At most this many sentences (default 2). */
  maxSentences?: number;
  /**
   * Below this share of the question's (IDF-weighted) content words found in
   * the best sentence, the passages are taken not to answer it (default 0.1).
   */
  minCoverage?: number;
}

/** Weights of the scoring terms; see `scoreSentence`. */
const WEIGHTS = {
  coverage: 1,
  density: 0.15,
  answerType: 0.2,
  passageRank: [0.1, 0.05, 0.02] as readonly number[],
};
/** A question word matched by a shared prefix only (spelling variants, unstemmed forms) counts this much. */
const PREFIX_MATCH_CREDIT = 0.6;
const MIN_PREFIX = 4;

interface Candidate {
  text: string;
  passage: number;
  position: number;
  chunkId: string;
  documentId: string;
  stems: string[];
  score: number;
  coverage: number;
}

/**
 * The offline answer: the (at most two) sentences of the retrieved passages
 * that best answer the question. Returns undefined when no sentence covers
 * enough of the question, so that the caller replies that the documents do not
 * cover it (see `notCoveredReply`).
 *
 * Each sentence (English and Hindi: `.`, `?`, `!` and the danda) is scored by:
 * - coverage: the IDF-weighted share of the question's stemmed content words
 *   it contains (IDF over the candidate sentences, so words that every passage
 *   repeats count little; a shared prefix earns partial credit);
 * - density: how close together the matched words are;
 * - answer type: the question word says what is asked (when/कब -> a year or
 *   date, how many/कितने -> a number, who/कौन -> a name, where/कहाँ -> a place)
 *   and the sentence must contain such a phrase that is not in the question;
 * - passage rank: a small bonus for sentences of the best-ranked passages.
 * The second sentence is the next best one, from any passage.
 */
export function extractiveAnswer(
  question: string,
  passages: readonly AnswerPassage[],
  options: ExtractiveAnswerOptions = {},
): ExtractiveAnswer | undefined {
  const maxSentences = Math.max(1, options.maxSentences ?? 2);
  const minCoverage = options.minCoverage ?? 0.1;
  const { answerType, sentences } = rankSentences(question, passages);
  const best = sentences[0];
  if (!best || best.coverage < minCoverage) return undefined;
  // The runner-up may come from another passage: the top passage is not always the one that answers.
  const chosen = sentences.slice(0, maxSentences).filter((sentence) => sentence.coverage >= minCoverage / 2);
  chosen.sort((a, b) => a.passage - b.passage || a.position - b.position);
  return {
    text: chosen.map((sentence) => sentence.text).join(' '),
    sentences: chosen.map(({ text, chunkId, documentId, score }) => ({ text, chunkId, documentId, score })),
    answerType,
  };
}

export interface RankedSentence extends AnswerSentence {
  /** Index of its passage in the input. */
  passage: number;
  /** Index of the sentence within its passage. */
  position: number;
  /** IDF-weighted share of the question's content words it contains, 0..1. */
  coverage: number;
}

/** Every distinct sentence of the passages, scored as `extractiveAnswer` describes, best first. */
export function rankSentences(
  question: string,
  passages: readonly AnswerPassage[],
): { answerType: AnswerType; sentences: RankedSentence[] } {
  const answerType = answerTypeOf(question);
  const questionTokens = contentTokens(question);
  const questionStems = unique(questionTokens.map((token) => foldSpelling(stemToken(token))));
  if (questionStems.length === 0) return { answerType, sentences: [] };

  const candidates: Candidate[] = [];
  passages.forEach((passage, index) => {
    sentenceSpans(passage.text, 0, passage.text.length).forEach((span, position) => {
      const text = passage.text.slice(span.start, span.end);
      candidates.push({
        text,
        passage: index,
        position,
        chunkId: passage.chunkId,
        documentId: passage.documentId,
        stems: contentTokens(text, { stem: true }).map(foldSpelling),
        score: 0,
        coverage: 0,
      });
    });
  });

  const idf = inverseDocumentFrequencies(questionStems, candidates);
  const questionWords = new Set(questionTokens);
  for (const candidate of candidates) scoreSentence(candidate, questionStems, idf, answerType, questionWords);
  const ranked = dedupe([...candidates].sort((a, b) => b.score - a.score || a.passage - b.passage || a.position - b.position));
  return {
    answerType,
    sentences: ranked.map(({ text, chunkId, documentId, score, passage, position, coverage }) => ({
      text,
      chunkId,
      documentId,
      score,
      passage,
      position,
      coverage,
    })),
  };
}

function scoreSentence(
  candidate: Candidate,
  questionStems: readonly string[],
  idf: ReadonlyMap<string, number>,
  answerType: AnswerType,
  questionWords: ReadonlySet<string>,
): void {
  let total = 0;
  let matched = 0;
  const positions: number[] = [];
  for (const stem of questionStems) {
    const weight = idf.get(stem) ?? 0;
    total += weight;
    const { credit, position } = bestMatch(stem, candidate.stems);
    if (credit > 0) {
      matched += weight * credit;
      positions.push(position);
    }
  }
  const coverage = total === 0 ? 0 : matched / total;
  // Matched words packed in a short stretch of the sentence read as one statement about them.
  let density = 0;
  if (positions.length > 1) {
    const span = Math.max(...positions) - Math.min(...positions) + 1;
    density = positions.length / span;
  } else if (positions.length === 1) {
    density = 0.5;
  }
  const typeEvidence = answerTypeEvidence(answerType, candidate.text, questionWords);
  candidate.coverage = coverage;
  candidate.score =
    WEIGHTS.coverage * coverage +
    WEIGHTS.density * density * coverage +
    WEIGHTS.answerType * typeEvidence +
    (WEIGHTS.passageRank[candidate.passage] ?? 0);
}

/** Exact stem match (credit 1) or a shared prefix of at least four letters (partial credit). */
function bestMatch(stem: string, stems: readonly string[]): { credit: number; position: number } {
  let best = { credit: 0, position: -1 };
  for (let i = 0; i < stems.length; i += 1) {
    const other = stems[i] as string;
    if (other === stem) return { credit: 1, position: i };
    if (best.credit === 0 && sharedPrefix(stem, other) >= MIN_PREFIX) best = { credit: PREFIX_MATCH_CREDIT, position: i };
  }
  return best;
}

function sharedPrefix(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  let i = 0;
  while (i < n && a[i] === b[i]) i += 1;
  return i;
}

/** Smoothed IDF of each question stem over the candidate sentences. */
function inverseDocumentFrequencies(stems: readonly string[], candidates: readonly Candidate[]): Map<string, number> {
  const n = candidates.length;
  const idf = new Map<string, number>();
  for (const stem of stems) {
    const df = candidates.filter((candidate) => candidate.stems.includes(stem)).length;
    idf.set(stem, Math.log(1 + (n - df + 0.5) / (df + 0.5)));
  }
  return idf;
}

/** Overlapping chunks repeat sentences: keep each text once. */
function dedupe(candidates: readonly Candidate[]): Candidate[] {
  const seen = new Set<string>();
  return candidates.filter((candidate) => {
    const key = candidate.text.trim();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}
