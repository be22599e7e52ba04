export type LlmErrorKind = 'timeout' | 'connection' | 'rate-limited' | 'server' | 'rejected' | 'invalid-response';

export interface LlmErrorDetails {
  kind: LlmErrorKind;
  /** Whether trying again later may succeed (429, 5xx, timeouts, dropped connections); 4xx rejections will not. */
  retryable: boolean;
  /** HTTP status of the provider's response, when there was one. */
  status?: number | undefined;
  cause?: unknown;
}

/**
 * A failure of the LLM provider, after the client's own retries. Never used
 * for aborts: those surface as the AbortSignal's reason.
 */
export class LlmError extends Error {
  override readonly name = 'LlmError';
  readonly kind: LlmErrorKind;
  readonly retryable: boolean;
  readonly status: number | undefined;

  constructor(message: string, details: LlmErrorDetails) {
    super(message, { cause: details.cause });
    this.kind = details.kind;
    this.retryable = details.retryable;
    this.status = details.status;
  }
}

export function isLlmError(error: unknown): error is LlmError {
  return error instanceof LlmError;
}
