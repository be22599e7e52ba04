import { availableParallelism } from 'node:os';
import { LOAD_GENERATOR_LIMITS, TestCluster } from '@ragstream/testing';
import type { BenchOptions } from './bench-config.ts';
import type { StopResult } from './bench-stop.ts';
import { measureStop } from './bench-stop.ts';
import type { ThroughputResult } from './bench-throughput.ts';
import { measureThroughput } from './bench-throughput.ts';
import type { TtftResult } from './bench-ttft.ts';
import { measureTtft } from './bench-ttft.ts';
import { round } from './percentiles.ts';
import { syntheticWorkerEnv, withWorkers } from './phase-workers.ts';

export interface BenchResult {
  kind: 'ragstream-bench';
  startedAt: string;
  durationMs: number;
  config: BenchOptions & { llmProvider: 'synthetic'; node: string; cpus: number; redisPrefix: string };
  ttft: TtftResult;
  stop: StopResult;
  throughput: ThroughputResult;
  totals: {
    /** Answers that errored or timed out. */
    failures: number;
    /** Text or status checks that failed, including stopped answers that were not stopped. */
    mismatches: number;
    /** Frame protocol breaches: seq gaps, duplicates, reordering, invalid frames. */
    violations: number;
    incomplete: number;
  };
  ok: boolean;
}

export interface BenchHooks {
  /** Progress lines. */
  log?: (line: string) => void;
  /** Called once the cluster is up, so that an entry point can stop it on Ctrl-C. */
  onCluster?: (cluster: TestCluster) => void;
}

/**
 * Starts a cluster (API nodes only; each phase brings its own workers, since a
 * synthetic worker's answer length and pace are fixed by its environment), runs
 * the three phases one after the other and stops everything.
 */
export async function runBench(options: BenchOptions, hooks: BenchHooks = {}): Promise<BenchResult> {
  const log = hooks.log ?? (() => undefined);
  const started = Date.now();
  const cluster = await TestCluster.start({ apis: options.apis, workers: 0, env: { LLM_PROVIDER: 'synthetic', ...LOAD_GENERATOR_LIMITS } });
  hooks.onCluster?.(cluster);
  try {
    const urls = cluster.apiUrls;
    const workerEnv = (tokens: number, tokensPerSecond: number, concurrency = 32): Record<string, string> =>
      syntheticWorkerEnv({ tokens, tokensPerSecond, concurrency, flushMs: options.flushMs });

    log(`cluster up: ${urls.join(', ')} (prefix ${cluster.prefix})`);
    log(`a) time to first token: ${options.ttft.answers} answers...`);
    const ttft = await withWorkers(cluster, options.workers, workerEnv(options.ttft.tokens, options.ttft.tokensPerSecond), () =>
      measureTtft(urls, options.ttft, options.timeoutMs),
    );
    log(`b) stop latency: ${options.stop.answers} answers...`);
    const stop = await withWorkers(cluster, options.workers, workerEnv(options.stop.tokens, options.stop.tokensPerSecond), () =>
      measureStop(urls, options.stop, options.timeoutMs),
    );
    log(`c) throughput: ${options.throughput.chats} concurrent chats...`);
    const throughput = await withWorkers(
      cluster,
      options.workers,
      workerEnv(options.throughput.tokens, options.throughput.tokensPerSecond, options.throughput.workerConcurrency),
      () => measureThroughput(urls, options.throughput, options.timeoutMs),
    );

    const totals = {
      failures: ttft.failures + stop.failures + throughput.failures,
      mismatches: ttft.mismatches + stop.mismatches + stop.notStopped + throughput.textMismatches + throughput.storedMismatches,
      violations: ttft.violations + stop.violations + throughput.outOfOrder,
      incomplete: throughput.incomplete,
    };
    return {
      kind: 'ragstream-bench',
      startedAt: new Date(started).toISOString(),
      durationMs: round(Date.now() - started, 0),
      config: { ...options, llmProvider: 'synthetic', node: process.version, cpus: availableParallelism(), redisPrefix: cluster.prefix },
      ttft,
      stop,
      throughput,
      totals,
      ok: totals.failures === 0 && totals.mismatches === 0 && totals.violations === 0 && totals.incomplete === 0,
    };
  } catch (err) {
    log(cluster.logs().slice(-20_000));
    throw err;
  } finally {
    await cluster.stop();
  }
}
