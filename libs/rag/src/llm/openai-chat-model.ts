import OpenAI, { APIConnectionError, APIConnectionTimeoutError, APIError } from 'openai';
import type { ChatCompletionCreateParamsBase } from 'openai/resources/chat/completions';
import type { CompletionUsage } from 'openai/resources/completions';
import type { ChatModel, ChatModelOptions, ChatTurn, ModelRequestObserver, ModelRequestReport, ModelUsage } from './chat-model.ts';
import { estimateUsage } from './chat-model.ts';
import { LlmError } from './llm-error.ts';
import { untilAborted } from './until-aborted.ts';

export interface OpenAiChatModelConfig {
  /** e.g. https://api.openai.com/v1, https://RESOURCE.openai.azure.com/openai/v1, http://localhost:8000/v1 (vLLM), http://localhost:11434/v1 (Ollama). */
  baseURL: string;
  /** Local servers ignore it; an empty string is allowed for them. */
  apiKey: string;
  model: string;
  /**
   * Per attempt: how long to wait for the response to start, and (when
   * streaming) the longest silence allowed between two chunks. A non-streamed
   * reply only starts once generated, so for `complete()` it bounds the whole call.
   */
  timeoutMs: number;
  /** Retries by the SDK on connection errors, timeouts, 408/409/429 and 5xx, before any token was streamed. */
  maxRetries: number;
  /**
   * The request field that carries `maxTokens`: OpenAI's reasoning models only
   * accept `max_completion_tokens`, while many local servers only know `max_tokens`.
   */
  maxTokensField?: 'max_tokens' | 'max_completion_tokens';
  /** Told of every request when it ends (latency, outcome, token usage); must not throw. */
  onRequest?: ModelRequestObserver;
}

type RequestBody = Omit<ChatCompletionCreateParamsBase, 'stream'>;

/** Streaming chat completions from any OpenAI-compatible endpoint, through the official SDK. */
export class OpenAiChatModel implements ChatModel {
  readonly name: string;
  readonly #config: OpenAiChatModelConfig;
  readonly #client: OpenAI;

  constructor(config: OpenAiChatModelConfig) {
    if (!Number.isInteger(config.timeoutMs) || config.timeoutMs <= 0) {
      throw new RangeError(`timeoutMs must be a positive integer, got ${config.timeoutMs}`);
    }
    if (!Number.isInteger(config.maxRetries) || config.maxRetries < 0) {
      throw new RangeError(`maxRetries must be a non-negative integer, got ${config.maxRetries}`);
    }
    this.#config = config;
    this.name = `openai:${config.model}`;
    this.#client = new OpenAI({
      baseURL: config.baseURL,
      apiKey: config.apiKey,
      timeout: config.timeoutMs,
      maxRetries: config.maxRetries,
      // Explicit nulls: otherwise the SDK silently reads OPENAI_ORG_ID / OPENAI_PROJECT_ID,
      // and configuration should come from the app's env object only.
      organization: null,
      project: null,
    });
  }

  async *stream(messages: ChatTurn[], options: ChatModelOptions): AsyncIterable<string> {
    const { signal } = options;
    signal.throwIfAborted();
    let idleTimer: NodeJS.Timeout | undefined;
    let idleTimedOut = false;
    const startedAt = performance.now();
    // Stays 'aborted' when the consumer stops reading before the end.
    let outcome: ModelRequestReport['outcome'] = 'aborted';
    let usage: ModelUsage | undefined;
    let output = '';
    try {
      const chunks = await untilAborted(
        // The caller's signal goes to the SDK, which cancels the HTTP request when it aborts.
        // include_usage: the last chunk (without choices) reports the tokens in and out.
        this.#client.chat.completions.create(
          { ...this.#body(messages, options), stream: true, stream_options: { include_usage: true } },
          { signal },
        ),
        signal,
      );
      // The SDK's timeout stops at the response headers; a server that stalls
      // mid-stream is caught by this idle timer, which runs only while we wait on
      // the server (not while the consumer holds a delta).
      const armIdleTimer = (): void => {
        idleTimer = setTimeout(() => {
          idleTimedOut = true;
          chunks.controller.abort();
        }, this.#config.timeoutMs);
      };
      armIdleTimer();
      for await (const chunk of chunks) {
        clearTimeout(idleTimer);
        if (chunk.usage) usage = toUsage(chunk.usage);
        // Some providers send chunks without choices (usage, Azure content-filter results).
        const delta = chunk.choices[0]?.delta?.content;
        if (delta) {
          output += delta;
          yield delta;
        }
        armIdleTimer();
      }
      // An aborted SDK stream ends quietly instead of throwing; say why it ended.
      if (signal.aborted) throw signal.reason;
      if (idleTimedOut) throw this.#idleTimeoutError();
      outcome = 'ok';
    } catch (error) {
      outcome = signal.aborted ? 'aborted' : 'error';
      throw this.#toThrown(error, signal, idleTimedOut);
    } finally {
      clearTimeout(idleTimer);
      this.#report('stream', startedAt, outcome, usage);
      this.#tellUsage(options, messages, usage, outcome, output);
    }
  }

  async complete(messages: ChatTurn[], options: ChatModelOptions): Promise<string> {
    const { signal } = options;
    signal.throwIfAborted();
    const startedAt = performance.now();
    let outcome: ModelRequestReport['outcome'] = 'error';
    let usage: ModelUsage | undefined;
    let output = '';
    try {
      const completion = await untilAborted(
        this.#client.chat.completions.create({ ...this.#body(messages, options), stream: false }, { signal }),
        signal,
      );
      if (completion.usage) usage = toUsage(completion.usage);
      const choice = completion.choices[0];
      if (!choice) {
        throw new LlmError('the model returned no choices', { kind: 'invalid-response', retryable: false });
      }
      // null content (a refusal or tool call) reads as an empty reply.
      outcome = 'ok';
      output = choice.message.content ?? '';
      return output;
    } catch (error) {
      if (signal.aborted) outcome = 'aborted';
      throw this.#toThrown(error, signal, false);
    } finally {
      this.#report('complete', startedAt, outcome, usage);
      this.#tellUsage(options, messages, usage, outcome, output);
    }
  }

  /**
   * The request's tokens for quotas: as reported, else estimated from the text, as a provider
   * bills a stopped stream too. A request that failed before any output is not counted.
   */
  #tellUsage(
    options: ChatModelOptions,
    messages: ChatTurn[],
    usage: ModelUsage | undefined,
    outcome: ModelRequestReport['outcome'],
    output: string,
  ): void {
    if (!options.onUsage) return;
    if (usage) options.onUsage(usage);
    else if (outcome !== 'error' || output !== '') options.onUsage(estimateUsage(messages, output));
  }

  #report(operation: ModelRequestReport['operation'], startedAt: number, outcome: ModelRequestReport['outcome'], usage?: ModelUsage): void {
    const seconds = (performance.now() - startedAt) / 1000;
    this.#config.onRequest?.({ model: this.#config.model, operation, seconds, outcome, ...(usage ? { usage } : {}) });
  }

  #body(messages: ChatTurn[], options: ChatModelOptions): RequestBody {
    const body: RequestBody = {
      model: this.#config.model,
      messages: messages.map(({ role, content }) => ({ role, content })),
    };
    if (options.temperature !== undefined) body.temperature = options.temperature;
    if (options.maxTokens !== undefined) {
      if (this.#config.maxTokensField === 'max_completion_tokens') body.max_completion_tokens = options.maxTokens;
      else body.max_tokens = options.maxTokens;
    }
    return body;
  }

  #idleTimeoutError(): LlmError {
    return new LlmError(`${this.name}: no data from the model for ${this.#config.timeoutMs} ms`, {
      kind: 'timeout',
      retryable: true,
    });
  }

  /** Aborts surface as the signal's reason, never wrapped: stop is not a provider failure. */
  #toThrown(error: unknown, signal: AbortSignal, idleTimedOut: boolean): unknown {
    if (signal.aborted) return signal.reason;
    if (error instanceof LlmError) return error;
    if (idleTimedOut) return this.#idleTimeoutError();
    return toLlmError(error, this.name);
  }
}

function toUsage(usage: CompletionUsage): ModelUsage {
  return { promptTokens: usage.prompt_tokens, completionTokens: usage.completion_tokens };
}

/** Maps an SDK or transport error to an `LlmError`, deciding whether a later retry may help. */
export function toLlmError(error: unknown, source = 'llm'): LlmError {
  const message = `${source}: ${error instanceof Error ? error.message : String(error)}`;
  if (error instanceof APIConnectionTimeoutError) {
    return new LlmError(message, { kind: 'timeout', retryable: true, cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new LlmError(message, { kind: 'connection', retryable: true, cause: error });
  }
  if (error instanceof APIError) {
    const status = error.status;
    if (status === undefined) {
      // An error event inside an SSE stream: the provider failed after it started answering.
      const retryable = error.type !== 'invalid_request_error';
      return new LlmError(message, { kind: 'server', retryable, cause: error });
    }
    if (status === 429) return new LlmError(message, { kind: 'rate-limited', retryable: true, status, cause: error });
    if (status === 408) return new LlmError(message, { kind: 'timeout', retryable: true, status, cause: error });
    // 409 is how OpenAI reports lock timeouts; the SDK retries it too.
    if (status >= 500 || status === 409) {
      return new LlmError(message, { kind: 'server', retryable: true, status, cause: error });
    }
    return new LlmError(message, { kind: 'rejected', retryable: false, status, cause: error });
  }
  if (error instanceof SyntaxError) {
    return new LlmError(message, { kind: 'invalid-response', retryable: false, cause: error });
  }
  // undici reports a server that drops the socket mid-stream as a bare TypeError ("terminated").
  return new LlmError(message, { kind: 'connection', retryable: true, cause: error });
}
