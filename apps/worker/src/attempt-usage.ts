import type { TokenUsage } from '@ragstream/limits';
import type { ModelUsage } from '@ragstream/rag';
import { estimateTokens } from '@ragstream/rag';

/**
 * The model tokens one attempt of an answer used, for token quotas: the sum of what its
 * model requests reported (or estimated, where the provider sent no report). An attempt that
 * made no model request (the offline pipeline, an auto-reply) counts an estimate from the
 * question and the text it streamed, so that quotas hold whatever the provider.
 */
export class AttemptUsage {
  private promptTokens = 0;
  private completionTokens = 0;
  private requests = 0;

  /** The responder's usage listener. */
  readonly add = (usage: ModelUsage): void => {
    this.requests += 1;
    this.promptTokens += usage.promptTokens;
    this.completionTokens += usage.completionTokens;
  };

  total(question: string, streamed: string): TokenUsage {
    if (this.requests === 0) return { promptTokens: estimateTokens(question), completionTokens: estimateTokens(streamed) };
    return { promptTokens: this.promptTokens, completionTokens: this.completionTokens };
  }
}
