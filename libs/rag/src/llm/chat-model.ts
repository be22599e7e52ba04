/** One message of a chat-completion conversation, in the provider-neutral shape the prompts build. */
export interface ChatTurn {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatModelOptions {
  /** Aborting it cancels the underlying request; the call then rejects with `signal.reason`. */
  signal: AbortSignal;
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
