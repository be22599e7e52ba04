import type { Response } from 'express';
import express, { Router } from 'express';
import type { AdminAuth } from './admin-auth.ts';
import { ADMIN_SESSION_COOKIE, ADMIN_SESSION_PATH } from './admin-auth.ts';

export const ADMIN_LOGIN_PATH = '/admin/login';

/** The form a browser gets instead of the board; the token goes in a POST body, never in a URL. */
export function loginPage(problem?: string): string {
  const notice = problem === undefined ? '' : `<p role="alert">${problem}</p>`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>RagStream admin</title></head>
<body><main>
<h1>RagStream admin</h1>${notice}
<form method="post" action="${ADMIN_LOGIN_PATH}">
<label>Admin token or an admin's JWT <input type="password" name="token" autocomplete="current-password" required autofocus></label>
<button type="submit">Sign in</button>
</form>
</main></body></html>`;
}

/** Browser sign-in with the admin token (or an admin's JWT): the answer is an HttpOnly session cookie, then the board. */
export function adminLoginRoutes(auth: AdminAuth, boardPath: string): Router {
  const router = Router();
  router.get(ADMIN_LOGIN_PATH, (_req, res) => {
    sendPage(res, 200, loginPage());
  });
  router.post(ADMIN_LOGIN_PATH, express.urlencoded({ extended: false, limit: '16kb' }), async (req, res) => {
    const token: unknown = (req.body as Record<string, unknown> | undefined)?.token;
    if (typeof token !== 'string' || !(await auth.login(token, req, res))) {
      sendPage(res, 401, loginPage('That token is not valid.'));
      return;
    }
    res.redirect(303, boardPath);
  });
  router.post('/admin/logout', (_req, res) => {
    res.clearCookie(ADMIN_SESSION_COOKIE, { path: ADMIN_SESSION_PATH });
    res.redirect(303, ADMIN_LOGIN_PATH);
  });
  return router;
}

function sendPage(res: Response, status: number, html: string): void {
  // A page that takes a secret is not cached; helmet's policy (frame-ancestors 'none') keeps it from being framed.
  res.setHeader('cache-control', 'no-store');
  res.status(status).type('html').send(html);
}
