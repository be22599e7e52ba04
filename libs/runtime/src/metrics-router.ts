import { createHash, timingSafeEqual } from 'node:crypto';
import type { Request, Router } from 'express';
import express from 'express';
import type { Registry } from 'prom-client';

/**
 * `GET /metrics` in the Prometheus text format; open when `token` is unset, otherwise
 * only for `Authorization: Bearer <token>` (401 without it).
 */
export function metricsRouter(registry: Registry, token: string | undefined): Router {
  const router = express.Router();
  router.get('/metrics', async (req, res) => {
    if (token !== undefined && !hasBearer(req, token)) {
      res.status(401).set('www-authenticate', 'Bearer').json({ code: 'unauthorized', message: 'a bearer token is required' });
      return;
    }
    // Express 5 passes a rejection (a failing collect) to the error handler.
    const text = await registry.metrics();
    res.type(registry.contentType).send(text);
  });
  return router;
}

function hasBearer(req: Request, token: string): boolean {
  const header = req.get('authorization') ?? '';
  const match = /^Bearer (.+)$/i.exec(header);
  if (!match?.[1]) return false;
  // Digests have equal lengths, so the comparison takes the same time whatever the length of the guess.
  return timingSafeEqual(digest(match[1]), digest(token));
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
