import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { ApiError } from '../api-error.ts';
import type { Authenticator } from '../auth/authenticator.ts';
import { bearerToken } from '../auth/authenticator.ts';
import type { Principal } from '../auth/principal.ts';

/** The cookie a browser login earns; scoped to /admin so no other route ever sees it. */
export const ADMIN_SESSION_COOKIE = 'ragstream_admin';
export const ADMIN_SESSION_PATH = '/admin';
const SESSION_SECONDS = 12 * 3600;
/** Three base64url parts: only such a value is worth verifying as a JWT. */
const JWT_SHAPE = /^[\w-]+\.[\w-]+\.[\w-]+$/;

/**
 * Decides whether a request may use the admin routes: the static ADMIN_TOKEN, or (with
 * authentication on) a user's JWT with `role: "admin"`, as a bearer token or a browser session.
 */
export interface AdminAuth {
  isAdmin(req: Request): Promise<boolean>;
  /**
   * The browser login: when `token` (typed into the form) is the admin token or an admin's JWT,
   * sets the session cookie and resolves true; otherwise sets nothing and resolves false.
   */
  login(token: string, req: Request, res: Response): Promise<boolean>;
}

/**
 * Without a configured token and without authentication nobody is admin: an unset ADMIN_TOKEN
 * closes /admin instead of opening it.
 */
export function adminAuth(adminToken: string | undefined, authenticator: Authenticator, now: () => number = Date.now): AdminAuth {
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

  /** The principal of an admin's JWT; undefined for anything else (an invalid token is no admin, whatever the reason). */
  const adminJwt = async (token: string): Promise<Principal | undefined> => {
    if (!authenticator.enabled || !JWT_SHAPE.test(token)) return undefined;
    try {
      const principal = await authenticator.authenticate(token);
      return principal?.admin ? principal : undefined;
    } catch {
      return undefined;
    }
  };

  const cookieOptions = (req: Request, maxAgeMs: number) => ({
    httpOnly: true,
    sameSite: 'strict' as const,
    secure: req.secure,
    path: ADMIN_SESSION_PATH,
    maxAge: maxAgeMs,
  });

  return {
    async isAdmin(req) {
      const bearer = bearerToken(req.get('authorization'));
      if (bearer !== undefined) return acceptsToken(bearer) || (await adminJwt(bearer)) !== undefined;
      const session = readCookie(req, ADMIN_SESSION_COOKIE);
      if (session === undefined) return false;
      return validSession(session) || (await adminJwt(session)) !== undefined;
    },
    async login(token, req, res) {
      if (adminToken !== undefined && acceptsToken(token)) {
        const expiresAt = Math.floor(now() / 1000) + SESSION_SECONDS;
        res.cookie(ADMIN_SESSION_COOKIE, `${expiresAt}.${sign(adminToken, expiresAt)}`, cookieOptions(req, SESSION_SECONDS * 1000));
        return true;
      }
      const principal = await adminJwt(token);
      if (principal === undefined) return false;
      // An admin's JWT is its own session: checked on every request, over when it expires (or in 12 hours).
      const lifetime = Math.min(SESSION_SECONDS * 1000, (principal.expiresAt ?? Number.POSITIVE_INFINITY) - now());
      res.cookie(ADMIN_SESSION_COOKIE, token, cookieOptions(req, lifetime));
      return true;
    },
  };
}

/**
 * Lets admins through and answers everyone else 401: JSON `{ code, message }` for API clients,
 * `unauthorizedPage` for a browser that navigates here (still 401, so nothing caches it as content).
 */
export function requireAdmin(auth: AdminAuth, unauthorizedPage: string): RequestHandler {
  return async (req, res, next) => {
    if (await auth.isAdmin(req)) {
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
