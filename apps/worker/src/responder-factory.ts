import type { ModelRequestObserver, PipelineContext, Responder } from '@ragstream/rag';
import { LlmAnswerGenerator, OfflineAnswerGenerator, OpenAiChatModel, RagResponder, SyntheticResponder } from '@ragstream/rag';
import type { WorkerConfig } from './config.ts';

/** How many earlier turns the pipeline reads for follow-ups and prompts. */
const HISTORY_TURNS = 6;
/** A passage must share this much of the query's content words to count as found. */
const MIN_OVERLAP = 0.2;

/** LLM_PROVIDER: `offline` (extractive, grounded), `openai` (any OpenAI-compatible server), `synthetic` (load tests). */
export function createResponder(config: WorkerConfig, context: PipelineContext, onModelRequest: ModelRequestObserver): Responder {
  if (config.LLM_PROVIDER === 'synthetic') {
    return new SyntheticResponder(config.SYNTHETIC_TOKENS, config.SYNTHETIC_TOKENS_PER_SECOND);
  }
  const generator =
    config.LLM_PROVIDER === 'openai'
      ? new LlmAnswerGenerator(
          new OpenAiChatModel({
            baseURL: config.OPENAI_BASE_URL ?? '',
            apiKey: config.OPENAI_API_KEY,
            model: config.LLM_MODEL,
            timeoutMs: config.LLM_TIMEOUT_MS,
            maxRetries: config.LLM_MAX_RETRIES,
            onRequest: onModelRequest,
          }),
          config.LLM_MAX_ANSWER_TOKENS,
        )
      : new OfflineAnswerGenerator();
  return new RagResponder({
    context,
    generator,
    topK: config.RETRIEVAL_TOP_K,
    historyTurns: HISTORY_TURNS,
    minOverlap: MIN_OVERLAP,
    answerPassages: config.ANSWER_PASSAGES,
  });
}
