import type { Router } from 'express';
import express from 'express';

export type ReadinessCheck = () => Promise<unknown>;

export interface HealthOptions {
  /**
   * True once the process has begun to shut down: `/readyz` then answers 503 at once, so that
   * a load balancer stops sending it new connections while it still serves the ones it has.
   */
  draining?: () => boolean;
}

/** `GET /healthz` (the process is up) and `GET /readyz` (not draining, and every dependency answers). */
export function healthRouter(checks: Record<string, ReadinessCheck>, options: HealthOptions = {}): Router {
  const router = express.Router();
  router.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  router.get('/readyz', async (_req, res) => {
    if (options.draining?.()) {
      res.status(503).json({ status: 'not_ready', draining: true, checks: {} });
      return;
    }
    const results: Record<string, string> = {};
    let ready = true;
    await Promise.all(
      Object.entries(checks).map(async ([name, check]) => {
        try {
          await withTimeout(check(), 2000);
          results[name] = 'ok';
        } catch (err) {
          ready = false;
          results[name] = err instanceof Error ? err.message : String(err);
        }
      }),
    );
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks: results });
  });
  return router;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}
