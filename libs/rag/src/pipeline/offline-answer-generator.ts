import { extractiveAnswer } from '../answering/extractive-answerer.ts';
import { notCoveredReply } from '../answering/not-covered-reply.ts';
import { rewriteFollowUp } from '../follow-up.ts';
import type { AnswerGenerator, GenerationInput, GroundedAnswer } from './answer-generator.ts';
import type { RetrievedPassage } from './ports.ts';
import { streamWords } from './stream-words.ts';

/**
 * The offline default: follow-ups rewritten by the documented heuristic, and an
 * extractive answer of at most two sentences from the retrieved passages, streamed
 * word by word; when they do not answer the question, a localised reply saying so.
 */
export class OfflineAnswerGenerator implements AnswerGenerator {
  readonly name = 'offline-extractive';
  readonly answersWithoutDocuments = false;

  async standaloneQuery(input: GenerationInput): Promise<string> {
    return rewriteFollowUp(input.question, input.history, input.language).query;
  }

  async translatedQueries(): Promise<string[]> {
    return [];
  }

  grounded(passages: RetrievedPassage[], input: GenerationInput): GroundedAnswer | undefined {
    const answer = extractiveAnswer(input.question, passages);
    if (!answer) return undefined;
    const used = new Set(answer.sentences.map((s) => s.chunkId));
    return { text: streamWords(answer.text, input.signal), cited: passages.filter((p) => used.has(p.chunkId)) };
  }

  ungrounded(input: GenerationInput): AsyncIterable<string> {
    return streamWords(notCoveredReply(input.language), input.signal);
  }
}
