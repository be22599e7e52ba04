import type { SupportedLanguage } from '../language.ts';
import type { UsageListener } from '../llm/chat-model.ts';
import type { HistoryTurn, OrganisationProfile, RetrievedPassage } from './ports.ts';

export interface GroundedAnswer {
  /** The answer, streamed. */
  text: AsyncIterable<string>;
  /** The passages the answer cites, best first. */
  cited: RetrievedPassage[];
}

export interface GenerationInput {
  question: string;
  language: SupportedLanguage;
  organisation: OrganisationProfile | null;
  history: HistoryTurn[];
  signal: AbortSignal;
  /** Told the tokens of every model request made for this answer. */
  onUsage?: UsageListener | undefined;
}

/**
 * The part of answering that differs with and without a language model: how a
 * follow-up becomes a standalone query, which extra queries retrieval runs, and
 * how an answer is produced from passages (or without them).
 */
export interface AnswerGenerator {
  readonly name: string;
  standaloneQuery(input: GenerationInput): Promise<string>;
  /** Queries in the other languages the documents may be written in (empty offline). */
  translatedQueries(query: string, input: GenerationInput): Promise<string[]>;
  /** An answer from the passages, or undefined when they turn out not to answer the question. */
  grounded(passages: RetrievedPassage[], input: GenerationInput): GroundedAnswer | undefined;
  /** Nothing relevant was found. */
  ungrounded(input: GenerationInput): AsyncIterable<string>;
  /** Whether `ungrounded` answers the question (a general model answer) rather than declining. */
  readonly answersWithoutDocuments: boolean;
}
