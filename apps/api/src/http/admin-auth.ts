import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { ApiError } from '../api-error.ts';

/** The cookie a browser login earns; scoped to /admin so no other route ever sees it. */
export const ADMIN_SESSION_COOKIE = 'ragstream_admin';
export const ADMIN_SESSION_PATH = '/admin';
const SESSION_SECONDS = 12 * 3600;

/**
 * Decides whether a request may use the admin routes. Today a static token; a JWT with an
 * admin role plugs in here without touching the routes behind it.
 */
export interface AdminAuth {
  isAdmin(req: Request): boolean;
  /** Whether `token` is the admin token, as typed into the browser login form. */
  acceptsToken(token: string): boolean;
  /** Starts a browser session: sets the session cookie (call only after `acceptsToken`). */
  startSession(req: Request, res: Response): void;
}

/** Without a configured token nobody is admin: an unset ADMIN_TOKEN closes /admin instead of opening it. */
export function tokenAdminAuth(adminToken: string | undefined, now: () => number = Date.now): AdminAuth {
  const tokenDigest = adminToken === undefined ? undefined : sha256(adminToken);
  const acceptsToken = (candidate: string): boolean => tokenDigest !== undefined && timingSafeEqual(sha256(candidate), tokenDigest);

  // The cookie holds an expiry and its HMAC keyed by the token, never the token: a leaked cookie
  // expires, cannot be turned back into the token, and rotating the token ends every session.
  const sign = (token: string, expiresAt: number): string =>
    createHmac('sha256', token).update(`ragstream-admin-session:${expiresAt}`).digest('base64url');

  const validSession = (value: string): boolean => {
    if (adminToken === undefined) return false;
    const [expires, mac, ...rest] = value.split('.');
    if (expires === undefined || mac === undefined || rest.length > 0 || !/^\d+$/.test(expires)) return false;
    const expiresAt = Number(expires);
    if (expiresAt * 1000 <= now()) return false;
    return timingSafeEqual(sha256(mac), sha256(sign(adminToken, expiresAt)));
  };

  return {
    isAdmin(req) {
      const bearer = /^Bearer +(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
      if (bearer !== undefined) return acceptsToken(bearer);
      const session = readCookie(req, ADMIN_SESSION_COOKIE);
      return session !== undefined && validSession(session);
    },
    acceptsToken,
    startSession(req, res) {
      if (adminToken === undefined) throw new Error('no admin token configured: a session cannot be started');
      const expiresAt = Math.floor(now() / 1000) + SESSION_SECONDS;
      res.cookie(ADMIN_SESSION_COOKIE, `${expiresAt}.${sign(adminToken, expiresAt)}`, {
        httpOnly: true,
        sameSite: 'strict',
        secure: req.secure,
        path: ADMIN_SESSION_PATH,
        maxAge: SESSION_SECONDS * 1000,
      });
    },
  };
}

/**
 * Lets admins through and answers everyone else 401: JSON `{ code, message }` for API clients,
 * `unauthorizedPage` for a browser that navigates here (still 401, so nothing caches it as content).
 */
export function requireAdmin(auth: AdminAuth, unauthorizedPage: string): RequestHandler {
  return (req, res, next) => {
    if (auth.isAdmin(req)) {
      next();
      return;
    }
    const error = new ApiError('unauthorized', 'admin credentials are missing or invalid');
    res.status(error.status).setHeader('www-authenticate', 'Bearer realm="ragstream-admin"');
    if (req.method === 'GET' && req.accepts(['json', 'html']) === 'html') {
      res.type('html').send(unauthorizedPage);
      return;
    }
    res.json({ code: error.code, message: error.message });
  };
}

// Hashing first gives timingSafeEqual equal-length inputs, so a wrong length leaks nothing either.
function sha256(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

function readCookie(req: Request, name: string): string | undefined {
  for (const part of (req.get('cookie') ?? '').split(';')) {
    const separator = part.indexOf('=');
    if (separator > 0 && part.slice(0, separator).trim() === name) return part.slice(separator + 1).trim();
  }
  return undefined;
}
