/** One message of a chat-completion conversation, in the provider-neutral shape the prompts build. */
export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatModelOptions {
  /** Aborting it cancels the underlying request; the call then rejects with `signal.reason`. */
  signal: AbortSignal;
  /**
   * Told the tokens of this request when it ends (stopped included): the provider's usage
   * report, or an estimate from the text's length where it sends none. For token quotas.
   */
  onUsage?: UsageListener | undefined;
  temperature?: number;
  maxTokens?: number;
}

/** One request to a model, reported when it ends; for metrics, never for control flow. */
export interface ModelRequestReport {
  model: string;
  operation: 'stream' | 'complete';
  seconds: number;
  /** `aborted`: the caller's signal fired or the caller stopped reading the stream. */
  outcome: 'ok' | 'error' | 'aborted';
  /** Tokens in and out, from the provider's usage report when it sends one. */
  usage?: ModelUsage;
}

export interface ModelUsage {
  promptTokens: number;
  completionTokens: number;
  /** true when counted from the text's length because the provider reported none. */
  estimated?: boolean;
}

/** Receives the token usage of one request (or one answer); must not throw. */
export type UsageListener = (usage: ModelUsage) => void;

/**
 * Tokens of a text when nobody counted them: about 4 bytes of UTF-8 per token, which is
 * close for English with OpenAI's tokenizers and errs high for Devanagari.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(Buffer.byteLength(text, 'utf8') / 4);
}

/** The usage of a request estimated from its prompt and its output. */
export function estimateUsage(messages: readonly ChatTurn[], output: string): ModelUsage {
  return {
    promptTokens: messages.reduce((sum, message) => sum + estimateTokens(message.content), 0),
    completionTokens: estimateTokens(output),
    estimated: true,
  };
}

export type ModelRequestObserver = (report: ModelRequestReport) => void;

/**
 * LLM provider port. Implementations reject with `LlmError` on provider
 * failures and with the signal's reason (never an `LlmError`) on abort, so that
 * callers can tell "stopped" from "failed".
 */
export interface ChatModel {
  readonly name: string;
  /** Yields content deltas in order as the model produces them. */
  stream(messages: ChatTurn[], options: ChatModelOptions): AsyncIterable<string>;
  /** The whole reply at once, for short utility calls (rewrite, translate). */
  complete(messages: ChatTurn[], options: ChatModelOptions): Promise<string>;
}
