import type { Logger } from '@ragstream/runtime';
import { InvalidCursorError } from '@ragstream/store';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import { ApiError } from '../api-error.ts';

export const notFoundHandler: RequestHandler = (req, res) => {
  res.status(404).json({ code: 'not_found', message: `no route for ${req.method} ${req.path}` });
};

/**
 * Every error leaves as JSON `{ code, message }` with the status its code implies. An unexpected
 * one is `internal` with a fixed message: its text and stack go to the log, never to the client.
 * The URL is logged as requested, less any credentials in it (the logger cuts `?token=` values).
 */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (err: unknown, req, res, _next) => {
    const apiError = toApiError(err);
    const fields = { method: req.method, url: req.originalUrl, status: apiError.status, code: apiError.code };
    if (apiError.code === 'internal') logger.error('request failed', { ...fields, err });
    else logger.debug('request refused', fields);
    if (res.headersSent) {
      res.end();
      return;
    }
    // A limit says when to try again: the header for HTTP clients, the same fields as in an error frame in the body.
    const retryAfter = apiError.retryAfterSeconds();
    if (retryAfter !== undefined) res.set('retry-after', String(retryAfter));
    res.status(apiError.status).json({ code: apiError.code, message: apiError.message, ...apiError.details });
  };
}

function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof InvalidCursorError) return new ApiError('invalid_cursor', err.message);
  const status = (err as { status?: unknown; type?: unknown }).status;
  const type = (err as { type?: unknown }).type;
  if (type === 'entity.parse.failed') return new ApiError('invalid_json', 'request body is not valid JSON');
  if (type === 'entity.too.large') return new ApiError('message_too_large', 'request body is too large');
  if (typeof status === 'number' && status >= 400 && status < 500) return new ApiError('invalid_body', String((err as Error).message));
  return new ApiError('internal', 'internal server error');
}
