import { Gauge, type Registry } from 'prom-client';
import type { Logger } from './logger.ts';
import { METRIC_PREFIX } from './metrics-registry.ts';

/** The part of a BullMQ Queue the gauges read; runtime does not depend on BullMQ. */
export interface CountedQueue {
  readonly name: string;
  getJobCounts(...types: string[]): Promise<Record<string, number>>;
}

export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;

/**
 * `ragstream_queue_jobs{queue,state}`, read from Redis at scrape time (never on a timer).
 * A queue that cannot be read is logged and left out of that scrape, so that the process
 * metrics still arrive while Redis is down.
 */
export function registerQueueGauges(registry: Registry, queues: readonly CountedQueue[], logger: Logger): void {
  new Gauge({
    name: `${METRIC_PREFIX}queue_jobs`,
    help: 'Jobs in each BullMQ queue by state, read at scrape time.',
    labelNames: ['queue', 'state'],
    registers: [registry],
    async collect() {
      this.reset();
      await Promise.all(
        queues.map(async (queue) => {
          try {
            const counts = await queue.getJobCounts(...QUEUE_STATES);
            for (const state of QUEUE_STATES) this.set({ queue: queue.name, state }, counts[state] ?? 0);
          } catch (err) {
            logger.warn('could not read queue counts for /metrics', { queue: queue.name, err });
          }
        }),
      );
    },
  });
}
