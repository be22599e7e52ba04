import type { ErrorCode, ErrorFrame } from '@ragstream/protocol';
import { errorFrame, HTTP_STATUS } from '@ragstream/protocol';

/** An error a client caused or should be told about: one code, one message, on every transport. */
export class ApiError extends Error {
  override readonly name = 'ApiError';

  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }

  toFrame(clientMessageId?: string): ErrorFrame {
    return errorFrame(this.code, this.message, clientMessageId);
  }
}

export const chatNotFound = (chatId: string): ApiError => new ApiError('chat_not_found', `chat ${chatId} does not exist`);
