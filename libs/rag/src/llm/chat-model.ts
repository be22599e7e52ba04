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
