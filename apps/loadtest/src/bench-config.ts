import { parseArgs } from 'node:util';
import { numberFlag, stringFlag, UsageError } from './cli-flags.ts';

export interface TtftOptions {
  /** Answers measured through the queue (and in-process samples taken). */
  answers: number;
  /** Answers in flight at once. */
  concurrency: number;
  /** Answers run first and not counted, through both paths. */
  warmup: number;
  tokens: number;
  tokensPerSecond: number;
}

export interface StopOptions {
  answers: number;
  concurrency: number;
  tokens: number;
  tokensPerSecond: number;
  /** After the first partial the stop is sent after (i mod 5) x (maxDelayMs / 4) ms, so stored texts vary in length. */
  maxDelayMs: number;
}

export interface ThroughputOptions {
  chats: number;
  /** Chats of an uncounted burst run first, to warm up the processes. */
  warmupChats: number;
  tokens: number;
  tokensPerSecond: number;
  /** WORKER_CONCURRENCY of each worker in this phase. */
  workerConcurrency: number;
}

export interface BenchOptions {
  quick: boolean;
  apis: number;
  workers: number;
  /** FRAME_FLUSH_MS of the workers: how long deltas are coalesced into one partial frame. */
  flushMs: number;
  /** Longest wait for any one frame the bench expects. */
  timeoutMs: number;
  ttft: TtftOptions;
  stop: StopOptions;
  throughput: ThroughputOptions;
}

export const DEFAULT_BENCH_OPTIONS: BenchOptions = {
  quick: false,
  apis: 2,
  workers: 2,
  flushMs: 15,
  timeoutMs: 30_000,
  ttft: { answers: 200, concurrency: 4, warmup: 8, tokens: 20, tokensPerSecond: 200 },
  stop: { answers: 100, concurrency: 4, tokens: 1000, tokensPerSecond: 50, maxDelayMs: 160 },
  throughput: { chats: 200, warmupChats: 20, tokens: 200, tokensPerSecond: 200, workerConcurrency: 200 },
};

/** Small enough for a smoke test (well under a minute on 2 cores), same code paths. */
export const QUICK_BENCH_OPTIONS: BenchOptions = {
  ...DEFAULT_BENCH_OPTIONS,
  quick: true,
  ttft: { ...DEFAULT_BENCH_OPTIONS.ttft, answers: 20, warmup: 4 },
  stop: { ...DEFAULT_BENCH_OPTIONS.stop, answers: 10 },
  throughput: { ...DEFAULT_BENCH_OPTIONS.throughput, chats: 20, warmupChats: 4, tokens: 50, workerConcurrency: 20 },
};

export const BENCH_USAGE = `Usage: npm run bench -- [options]

Starts its own cluster (API nodes + workers, LLM_PROVIDER=synthetic, a unique Redis prefix)
and measures, in one run: time to first token through the queue vs in-process, stop latency
across API nodes (with a stored-text check), and streaming throughput.

  --quick                     small run (used by the smoke test)
  --json FILE                 also write the final JSON line to FILE
  --apis N  --workers N       cluster size (default 2 and 2)
  --flush-ms MS               workers' FRAME_FLUSH_MS (default 15)
  --timeout-ms MS             longest wait for one expected frame (default 30000)
  --ttft-answers N            answers timed through the queue (default 200)
  --ttft-concurrency N        of them in flight at once (default 4)
  --ttft-tokens N --ttft-tps R      synthetic answer for this phase (default 20 at 200 tok/s)
  --stop-answers N            answers started on node A and stopped from node B (default 100)
  --stop-concurrency N        (default 4)
  --stop-tokens N --stop-tps R      (default 1000 at 50 tok/s)
  --chats N                   concurrent chats in the throughput phase (default 200)
  --throughput-tokens N --throughput-tps R   (default 200 at 200 tok/s)
  --worker-concurrency N      WORKER_CONCURRENCY in the throughput phase (default = --chats)
`;

export interface BenchCli {
  options: BenchOptions;
  jsonFile: string | undefined;
  help: boolean;
}

export function parseBenchArgs(argv: string[]): BenchCli {
  let parsed: ReturnType<typeof parseFlags>;
  try {
    parsed = parseFlags(argv);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  const base = v.quick === true ? QUICK_BENCH_OPTIONS : DEFAULT_BENCH_OPTIONS;
  const chats = numberFlag(v, 'chats', base.throughput.chats, 1, 5000);
  const options: BenchOptions = {
    quick: v.quick === true,
    apis: numberFlag(v, 'apis', base.apis, 1, 8),
    workers: numberFlag(v, 'workers', base.workers, 1, 16),
    flushMs: numberFlag(v, 'flush-ms', base.flushMs, 0, 1000),
    timeoutMs: numberFlag(v, 'timeout-ms', base.timeoutMs, 1000, 600_000),
    ttft: {
      ...base.ttft,
      answers: numberFlag(v, 'ttft-answers', base.ttft.answers, 1, 100_000),
      concurrency: numberFlag(v, 'ttft-concurrency', base.ttft.concurrency, 1, 1000),
      tokens: numberFlag(v, 'ttft-tokens', base.ttft.tokens, 1, 100_000),
      tokensPerSecond: numberFlag(v, 'ttft-tps', base.ttft.tokensPerSecond, 0, 100_000, false),
    },
    stop: {
      ...base.stop,
      answers: numberFlag(v, 'stop-answers', base.stop.answers, 1, 100_000),
      concurrency: numberFlag(v, 'stop-concurrency', base.stop.concurrency, 1, 1000),
      tokens: numberFlag(v, 'stop-tokens', base.stop.tokens, 1, 1_000_000),
      tokensPerSecond: numberFlag(v, 'stop-tps', base.stop.tokensPerSecond, 0.1, 100_000, false),
    },
    throughput: {
      ...base.throughput,
      chats,
      warmupChats: Math.min(base.throughput.warmupChats, chats),
      tokens: numberFlag(v, 'throughput-tokens', base.throughput.tokens, 1, 100_000),
      tokensPerSecond: numberFlag(v, 'throughput-tps', base.throughput.tokensPerSecond, 0, 100_000, false),
      workerConcurrency: numberFlag(v, 'worker-concurrency', Math.min(1000, chats), 1, 1000),
    },
  };
  return { options, jsonFile: stringFlag(v, 'json'), help: v.help === true };
}

function parseFlags(argv: string[]) {
  return parseArgs({
    args: argv,
    strict: true,
    allowPositionals: false,
    options: {
      quick: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      json: { type: 'string' },
      apis: { type: 'string' },
      workers: { type: 'string' },
      'flush-ms': { type: 'string' },
      'timeout-ms': { type: 'string' },
      'ttft-answers': { type: 'string' },
      'ttft-concurrency': { type: 'string' },
      'ttft-tokens': { type: 'string' },
      'ttft-tps': { type: 'string' },
      'stop-answers': { type: 'string' },
      'stop-concurrency': { type: 'string' },
      'stop-tokens': { type: 'string' },
      'stop-tps': { type: 'string' },
      chats: { type: 'string' },
      'throughput-tokens': { type: 'string' },
      'throughput-tps': { type: 'string' },
      'worker-concurrency': { type: 'string' },
    },
  });
}
