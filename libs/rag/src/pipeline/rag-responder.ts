import type { Source } from '@ragstream/protocol';
import { detectAutoReply } from '../auto-reply.ts';
import { detectLanguage } from '../language.ts';
import type { UsageListener } from '../llm/chat-model.ts';
import type { AnswerEvent, AnswerRequest, Responder } from '../responder.ts';
import { keywordTokens } from '../retrieval/keyword-index.ts';
import type { AnswerGenerator, GenerationInput } from './answer-generator.ts';
import type { PipelineContext, RetrievedPassage } from './ports.ts';
import { streamWords } from './stream-words.ts';

export interface RagResponderOptions {
  context: PipelineContext;
  generator: AnswerGenerator;
  topK: number;
  historyTurns: number;
  /** A passage counts as relevant when at least this share of a query's content words occur in it. */
  minOverlap: number;
  /** How many of the best passages the answer is drawn from (all retrieved ones are listed as sources). */
  answerPassages: number;
}

/**
 * The seed's RAG behaviour: auto-reply, language, follow-up rewrite, hybrid
 * retrieval, then a grounded answer (or an honest fallback), streamed. Every stage
 * checks the signal, so stop cancels retrieval as well as generation.
 */
export class RagResponder implements Responder {
  readonly name: string;

  constructor(private readonly options: RagResponderOptions) {
    this.name = `rag/${options.generator.name}`;
  }

  async *respond(request: AnswerRequest, signal: AbortSignal, onUsage?: UsageListener): AsyncIterable<AnswerEvent> {
    const { context, generator } = this.options;
    const organisation = await context.organisation(request.organisationId);
    signal.throwIfAborted();
    const { language } = detectLanguage(request.text, request.selectedLanguage);
    yield { type: 'status', stage: 'language', language };

    const autoReply = detectAutoReply(request.text, language, { organisationName: organisation?.name });
    if (autoReply) {
      yield { type: 'meta', grounded: false, language };
      for await (const text of streamWords(autoReply.reply, signal)) yield { type: 'delta', text };
      return;
    }

    const history = await context.history(request.chatId, request.userMessageId, this.options.historyTurns);
    const input: GenerationInput = { question: request.text, language, organisation, history, signal, onUsage };
    yield { type: 'status', stage: 'searching', language };
    const query = await generator.standaloneQuery(input);
    signal.throwIfAborted();
    const queries = [query, ...(await generator.translatedQueries(query, input))];
    const passages = await this.retrieve(request.organisationId, queries, signal);
    const relevant = passages.filter((p) => overlap(queries, p) >= this.options.minOverlap);

    yield { type: 'status', stage: 'generating', language };
    const answer = relevant.length === 0 ? undefined : generator.grounded(relevant.slice(0, this.options.answerPassages), input);
    if (!answer) {
      yield { type: 'meta', grounded: false, language };
      for await (const text of generator.ungrounded(input)) yield { type: 'delta', text };
      return;
    }
    yield { type: 'meta', grounded: true, language };
    for await (const text of answer.text) yield { type: 'delta', text };
    // Everything retrieval ranked, in its order, with the passages the answer drew on marked.
    const cited = new Set(answer.cited.map((p) => p.chunkId));
    yield { type: 'sources', sources: relevant.map((p) => toSource(p, cited.has(p.chunkId))) };
  }

  /** Runs each query and keeps every passage once, at its best score. */
  private async retrieve(organisationId: string, queries: string[], signal: AbortSignal): Promise<RetrievedPassage[]> {
    const byChunk = new Map<string, RetrievedPassage>();
    for (const query of queries) {
      for (const passage of await this.options.context.retrieve(organisationId, query, { topK: this.options.topK, signal })) {
        const seen = byChunk.get(passage.chunkId);
        if (!seen || passage.score > seen.score) byChunk.set(passage.chunkId, passage);
      }
      signal.throwIfAborted();
    }
    return [...byChunk.values()].sort((a, b) => b.score - a.score).slice(0, this.options.topK);
  }
}

/** The largest share of any query's content words that the passage contains. */
function overlap(queries: string[], passage: RetrievedPassage): number {
  const words = new Set(keywordTokens(`${passage.title} ${passage.text}`));
  let best = 0;
  for (const query of queries) {
    const tokens = [...new Set(keywordTokens(query))];
    if (tokens.length === 0) continue;
    best = Math.max(best, tokens.filter((t) => words.has(t)).length / tokens.length);
  }
  return best;
}

function toSource(passage: RetrievedPassage, cited: boolean): Source {
  return {
    cited,
    documentId: passage.documentId,
    chunkId: passage.chunkId,
    title: passage.title,
    score: Number(passage.score.toFixed(6)),
    excerpt: passage.text.length > 240 ? `${passage.text.slice(0, 240)}…` : passage.text,
  };
}
