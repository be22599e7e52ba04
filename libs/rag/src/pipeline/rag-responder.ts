import type { Source } from '@ragstream/protocol';
import { detectAutoReply } from '../auto-reply.ts';
import { detectLanguage } from '../language.ts';
import type { AnswerEvent, AnswerRequest, Responder } from '../responder.ts';
import type { AnswerGenerator, GenerationInput } from './answer-generator.ts';
import type { PipelineContext, RetrievedPassage } from './ports.ts';

export interface RagResponderOptions {
  context: PipelineContext;
  generator: AnswerGenerator;
  topK: number;
  historyTurns: number;
  /** A passage counts as relevant when at least this share of the query's content words occur in it. */
  minOverlap: number;
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

  async *respond(request: AnswerRequest, signal: AbortSignal): AsyncIterable<AnswerEvent> {
    const { context, generator } = this.options;
    yield { type: 'status', stage: 'language' };
    const organisation = await context.organisation(request.organisationId);
    signal.throwIfAborted();
    const { language } = detectLanguage(request.text, request.selectedLanguage);
    yield { type: 'status', stage: 'language', language };

    const autoReply = detectAutoReply(request.text, language, { organisationName: organisation?.name });
    if (autoReply) {
      yield { type: 'meta', grounded: false, language };
      yield* words(autoReply.reply, signal);
      return;
    }

    const history = await context.history(request.chatId, request.userMessageId, this.options.historyTurns);
    const input: GenerationInput = { question: request.text, language, organisation, history, signal };
    yield { type: 'status', stage: 'searching', language };
    const query = await generator.standaloneQuery(input);
    signal.throwIfAborted();
    const queries = [query, ...(await generator.translatedQueries(query, input))];
    const passages = await this.retrieve(request.organisationId, queries, signal);
    const relevant = passages.filter((p) => p.overlap >= this.options.minOverlap);

    yield { type: 'status', stage: 'generating', language };
    if (relevant.length === 0) {
      yield { type: 'meta', grounded: false, language };
      for await (const text of generator.ungrounded(input)) yield { type: 'delta', text };
      return;
    }
    const answer = generator.grounded(relevant, input);
    yield { type: 'meta', grounded: true, language };
    for await (const text of answer.text) yield { type: 'delta', text };
    yield { type: 'sources', sources: answer.cited.map(toSource) };
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

function toSource(passage: RetrievedPassage): Source {
  return {
    documentId: passage.documentId,
    chunkId: passage.chunkId,
    title: passage.title,
    score: Number(passage.score.toFixed(6)),
    excerpt: passage.text.length > 240 ? `${passage.text.slice(0, 240)}…` : passage.text,
  };
}

/** Streams a ready text word by word, yielding to the event loop between words. */
export async function* words(text: string, signal: AbortSignal): AsyncIterable<AnswerEvent> {
  for (const word of text.split(/(?<=\s)/)) {
    signal.throwIfAborted();
    yield { type: 'delta', text: word };
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}
