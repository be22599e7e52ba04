/** Stable error codes shared by REST responses and `error` frames. */
export const ERROR_CODES = [
  'invalid_json',
  'invalid_frame',
  'unknown_message_type',
  'invalid_body',
  'invalid_query',
  'invalid_cursor',
  'message_too_large',
  'frame_too_large',
  'chat_not_found',
  'message_not_found',
  'organisation_not_found',
  'document_not_found',
  'not_found',
  /** No valid token: missing, malformed, forged, signed for another issuer or audience (REST 401). */
  'unauthorized',
  'origin_not_allowed',
  /** The token was valid and has expired: on a long connection, sent just before the server closes it (REST 401). */
  'token_expired',
  /** A valid token that may not do this: a `userId` that is not the token's `sub`, another user's list, a change that needs an admin (REST 403). */
  'forbidden',
  'conflict',
  'busy',
  'slow_consumer',
  'internal',
  'unavailable',
  'rate_limited',
  'too_many_answers',
  'too_many_connections',
  'quota_exceeded',
  'too_many_documents',
  'unsupported_document_type',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** HTTP status for each error code, so REST and sockets agree on meaning. */
export const HTTP_STATUS: Record<ErrorCode, number> = {
  invalid_json: 400,
  invalid_frame: 400,
  unknown_message_type: 400,
  invalid_body: 400,
  invalid_query: 400,
  invalid_cursor: 400,
  message_too_large: 413,
  frame_too_large: 413,
  chat_not_found: 404,
  message_not_found: 404,
  organisation_not_found: 404,
  document_not_found: 404,
  not_found: 404,
  unauthorized: 401,
  origin_not_allowed: 403,
  token_expired: 401,
  forbidden: 403,
  conflict: 409,
  busy: 429,
  // Only ever an error frame, right before the node closes the connection: never an HTTP status.
  slow_consumer: 429,
  internal: 500,
  unavailable: 503,
  rate_limited: 429,
  too_many_answers: 429,
  too_many_connections: 429,
  quota_exceeded: 429,
  too_many_documents: 429,
  unsupported_document_type: 415,
};

/**
 * The codes of a limit that was hit. The refused request changed nothing (no message stored,
 * no answer queued) and the connection stays open; `retryAfter` (seconds) or `resetAt` says
 * when trying again can succeed, and REST answers 429 with a `Retry-After` header.
 */
export const LIMIT_ERROR_CODES = [
  'rate_limited',
  'busy',
  'too_many_answers',
  'too_many_connections',
  'quota_exceeded',
  'too_many_documents',
] as const satisfies readonly ErrorCode[];
export type LimitErrorCode = (typeof LIMIT_ERROR_CODES)[number];

export function isLimitErrorCode(code: string): code is LimitErrorCode {
  return (LIMIT_ERROR_CODES as readonly string[]).includes(code);
}
