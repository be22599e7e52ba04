import { AbortableSleeper } from './abortable-sleep.ts';
import type { UsageListener } from './llm/chat-model.ts';
import { estimateTokens } from './llm/chat-model.ts';
import type { AnswerEvent, AnswerRequest, Responder } from './responder.ts';

const WORDS = ['stream', 'token', 'answer', 'redis', 'worker', 'chat', 'résumé', 'नमस्ते', 'order', 'queue'];

/** The i-th synthetic token (1-based); deterministic so that tests can predict the full text. */
export function syntheticToken(index: number): string {
  return `${WORDS[(index - 1) % WORDS.length] ?? 'token'}${index} `;
}

/** The prompt tokens the synthetic responder reports for a question. */
export function syntheticPromptTokens(question: string): number {
  return estimateTokens(question);
}

export function syntheticAnswer(tokens: number): string {
  let text = '';
  for (let i = 1; i <= tokens; i += 1) text += syntheticToken(i);
  return text;
}

/**
 * Streams `tokens` deterministic tokens at `tokensPerSecond` (0 = as fast as possible),
 * scheduled against the start time so that timer drift does not slow long answers.
 * For tests, benchmarks and load tests: it measures the plumbing, not a model. Like a model
 * it reports its usage when it ends, stopped or not: the question's estimated tokens in, and
 * the tokens it streamed out.
 */
export class SyntheticResponder implements Responder {
  readonly name = 'synthetic';

  constructor(
    private readonly tokens: number,
    private readonly tokensPerSecond: number,
  ) {}

  async *respond(request: AnswerRequest, signal: AbortSignal, onUsage?: UsageListener): AsyncIterable<AnswerEvent> {
    const start = performance.now();
    const interval = this.tokensPerSecond > 0 ? 1000 / this.tokensPerSecond : 0;
    let streamed = 0;
    const sleeper = new AbortableSleeper(signal);
    try {
      for (let i = 1; i <= this.tokens; i += 1) {
        signal.throwIfAborted();
        if (interval > 0) {
          await sleeper.sleep(start + (i - 1) * interval - performance.now());
        } else if (i % 64 === 0) {
          // Yield to the event loop so that lock renewal and cancellation stay responsive.
          await new Promise<void>((resolve) => setImmediate(resolve));
        }
        streamed = i;
        yield { type: 'delta', text: syntheticToken(i) };
      }
    } finally {
      sleeper.dispose();
      onUsage?.({ promptTokens: syntheticPromptTokens(request.text), completionTokens: streamed });
    }
  }
}
