import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import express, { type Router } from 'express';

const WEB_DIST = fileURLToPath(new URL('../../../web/dist', import.meta.url));

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>RagStream</title>
<p>The chat page is not built. Run <code>npm run build -w @ragstream/web</code> (or <code>npm start</code>, which builds it), then reload.</p>`;

/**
 * The chat page (`apps/web`'s Vite build) at `/`. Hashed assets never change under their
 * name, so they are cached for a year; index.html names them, so it is revalidated every time.
 */
export function webRoutes(distDir = WEB_DIST): Router {
  const router = express.Router();
  const index = `${distDir}/index.html`;
  router.use('/assets', express.static(`${distDir}/assets`, { immutable: true, maxAge: '1y' }));
  router.get(['/', '/index.html'], (_req, res) => {
    // Checked per request, so that a build made while the node runs is served without a restart.
    if (!existsSync(index)) {
      res.status(503).type('html').send(NOT_BUILT);
      return;
    }
    res.setHeader('cache-control', 'no-cache');
    res.sendFile(index);
  });
  return router;
}
