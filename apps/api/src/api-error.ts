import type { ErrorCode, ErrorDetails, ErrorFrame } from '@ragstream/protocol';
import { errorFrame, HTTP_STATUS } from '@ragstream/protocol';

export interface ApiErrorOptions extends ErrorDetails {
  /** Far past a limit: a connection that sent it is closed after its error frame. */
  abusive?: boolean;
}

/** An error a client caused or should be told about: one code, one message, on every transport. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: ApiErrorOptions = {},
  ) {
    super(message);
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }

  /** `retryAfter` and `resetAt`, where the error has them. */
  get details(): ErrorDetails {
    const { retryAfter, resetAt } = this.options;
    return { ...(retryAfter === undefined ? {} : { retryAfter }), ...(resetAt === undefined ? {} : { resetAt }) };
  }

  /** Seconds for a `Retry-After` header: `retryAfter`, else the time until `resetAt`. */
  retryAfterSeconds(now = Date.now()): number | undefined {
    const { retryAfter, resetAt } = this.options;
    if (retryAfter !== undefined) return retryAfter;
    if (resetAt !== undefined) return Math.max(0, Math.ceil((Date.parse(resetAt) - now) / 1000));
    return undefined;
  }

  toFrame(clientMessageId?: string): ErrorFrame {
    return errorFrame(this.code, this.message, clientMessageId, this.details);
  }
}

export const chatNotFound = (chatId: string): ApiError => new ApiError('chat_not_found', `chat ${chatId} does not exist`);
