import type { TestCluster } from '@ragstream/testing';

export interface SyntheticWorkerEnv {
  tokens: number;
  tokensPerSecond: number;
  concurrency: number;
  flushMs: number;
}

export function syntheticWorkerEnv(env: SyntheticWorkerEnv): Record<string, string> {
  return {
    LLM_PROVIDER: 'synthetic',
    SYNTHETIC_TOKENS: String(env.tokens),
    SYNTHETIC_TOKENS_PER_SECOND: String(env.tokensPerSecond),
    WORKER_CONCURRENCY: String(env.concurrency),
    FRAME_FLUSH_MS: String(env.flushMs),
  };
}

/**
 * A worker's answer shape is fixed by its environment, so each phase gets its own
 * workers on the same API nodes and Redis prefix: started before `run`, stopped
 * (SIGTERM, graceful) after it.
 */
export async function withWorkers<T>(cluster: TestCluster, count: number, env: Record<string, string>, run: () => Promise<T>): Promise<T> {
  try {
    await Promise.all(Array.from({ length: count }, () => cluster.addWorker(env)));
    return await run();
  } finally {
    // addWorker registers the process before it is ready, so stop every worker of the cluster that is still running.
    await Promise.all(cluster.workers.map((worker) => worker.stop()));
  }
}
