import type { Logger } from '@ragstream/runtime';
import type { Request, RequestHandler } from 'express';
import { ApiError } from '../api-error.ts';
import type { Principal } from './principal.ts';
import type { TokenVerifier, VerifierOptions } from './token-verifier.ts';
import { createTokenVerifier } from './token-verifier.ts';

/**
 * Turns the token a request or a connection carries into its principal. With authentication
 * off (the local quick start) there is none, whatever the token, and nothing is checked.
 */
export interface Authenticator {
  readonly enabled: boolean;
  /**
   * The principal of `token`; undefined when authentication is off. Throws ApiError
   * `unauthorized` (no token or an invalid one), `token_expired` or `unavailable`.
   */
  authenticate(token: string | undefined): Promise<Principal | undefined>;
}

export const AUTH_OFF: Authenticator = {
  enabled: false,
  authenticate: () => Promise.resolve(undefined),
};

export function tokenAuthenticator(verifier: TokenVerifier, logger: Logger): Authenticator {
  return {
    enabled: true,
    async authenticate(token) {
      if (token === undefined || token.length === 0)
        throw new ApiError('unauthorized', 'a token is required (Authorization: Bearer <jwt>)');
      try {
        return await verifier.verify(token);
      } catch (err) {
        // Never the token itself: only why it could not be checked.
        if (err instanceof ApiError && err.code === 'unavailable') logger.error('tokens cannot be verified', { err: err.cause });
        throw err;
      }
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer +(\S+)\s*$/i.exec(header ?? '')?.[1];
}

const principals = new WeakMap<Request, Principal>();

/** The principal that `authenticateRequests` found for this request; undefined with authentication off. */
export function requestPrincipal(req: Request): Principal | undefined {
  return principals.get(req);
}

/**
 * Authenticates every request that reaches it: `Authorization: Bearer`, or `?token=` where
 * `acceptsQueryToken` allows (event streams: EventSource cannot set headers). A request
 * without a valid token gets 401 `unauthorized` (or `token_expired`) with `WWW-Authenticate`.
 */
export function authenticateRequests(authenticator: Authenticator, acceptsQueryToken: (req: Request) => boolean): RequestHandler {
  return async (req, res, next) => {
    if (!authenticator.enabled) {
      next();
      return;
    }
    const query = acceptsQueryToken(req) && typeof req.query.token === 'string' ? req.query.token : undefined;
    const token = bearerToken(req.get('authorization')) ?? query;
    try {
      const principal = await authenticator.authenticate(token);
      if (principal) principals.set(req, principal);
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) res.setHeader('www-authenticate', `Bearer realm="ragstream"`);
      throw err;
    }
    next();
  };
}

/** Authentication as configured: off without a verifier (the local quick start), else every token verified. */
export function createAuthenticator(options: VerifierOptions | undefined, logger: Logger): Authenticator {
  return options === undefined ? AUTH_OFF : tokenAuthenticator(createTokenVerifier(options), logger);
}
