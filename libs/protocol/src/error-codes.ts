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
  'unauthorized',
  'origin_not_allowed',
  'conflict',
  'busy',
  'slow_consumer',
  'internal',
  'unavailable',
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
  conflict: 409,
  busy: 429,
  // Only ever an error frame, right before the node closes the connection: never an HTTP status.
  slow_consumer: 429,
  internal: 500,
  unavailable: 503,
};
