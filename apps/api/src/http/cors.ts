import corsMiddleware from 'cors';
import type { RequestHandler } from 'express';
import { ApiError } from '../api-error.ts';
import type { OriginPolicy } from './origin-policy.ts';

/**
 * CORS for REST and SSE (the `cors` package): a browser request from an origin outside
 * `CORS_ORIGIN` is refused with 403 `origin_not_allowed`, preflight included; an allowed one
 * gets the CORS headers. Socket.IO and the raw WebSocket apply the same policy themselves.
 */
export function cors(policy: OriginPolicy): RequestHandler[] {
  const refuse: RequestHandler = (req, _res, next) => {
    if (policy.allows(req.headers)) next();
    else next(new ApiError('origin_not_allowed', 'this origin may not use the API; see CORS_ORIGIN'));
  };
  return [refuse, corsMiddleware(policy.corsOptions)];
}
