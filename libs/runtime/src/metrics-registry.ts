import { collectDefaultMetrics, Registry } from 'prom-client';

/** Every metric of ours starts with it; prom-client's default process metrics keep their standard names. */
export const METRIC_PREFIX = 'ragstream_';

/**
 * One registry per process (not prom-client's global one, so that tests and several
 * instances in one process do not collide), with the default process and Node.js
 * metrics, event-loop lag included.
 */
export function createMetricsRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}
