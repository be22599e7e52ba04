import type { ModelRequestObserver } from '@ragstream/rag';
import type { CountedQueue, Logger } from '@ragstream/runtime';
import { createMetricsRegistry, METRIC_PREFIX, registerQueueGauges } from '@ragstream/runtime';
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';

/** How a run of a generation job ended; `retry`: it threw and BullMQ runs it again. */
export type GenerationJobOutcome = 'complete' | 'stopped' | 'failed' | 'superseded' | 'already_finished' | 'retry' | 'handed_back';
export type IngestionJobOutcome = 'ready' | 'superseded' | 'deleted' | 'failed' | 'retry';

const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The worker's metrics, each defined here once. Every method records synchronously (no
 * I/O), so that the processors can call them on their paths without waiting.
 */
export class WorkerMetrics {
  readonly registry: Registry = createMetricsRegistry();

  private readonly queueWait = new Histogram({
    name: `${METRIC_PREFIX}queue_wait_seconds`,
    help: "From a generation job's creation to its first attempt starting (waits for the chat's turn included).",
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  private readonly jobDuration = new Histogram({
    name: `${METRIC_PREFIX}generation_job_seconds`,
    help: 'One run of a generation job, by outcome.',
    labelNames: ['outcome'],
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });
  private readonly attempts = new Counter({
    name: `${METRIC_PREFIX}generation_attempts_total`,
    help: 'Attempts of generations started (the first and every retry or takeover).',
    registers: [this.registry],
  });
  private readonly retries = new Counter({
    name: `${METRIC_PREFIX}generation_retries_total`,
    help: 'Runs of generation jobs that ended in an error BullMQ retries.',
    registers: [this.registry],
  });
  private readonly modelRequest = new Histogram({
    name: `${METRIC_PREFIX}model_request_seconds`,
    help: 'Requests to the language model, to their end, by model, operation (stream, complete) and outcome.',
    labelNames: ['model', 'operation', 'outcome'],
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  private readonly modelTokens = new Counter({
    name: `${METRIC_PREFIX}model_tokens_total`,
    help: "Tokens by model and direction (in: prompt, out: completion), from the model's usage reports.",
    labelNames: ['model', 'direction'],
    registers: [this.registry],
  });
  private readonly retrieval = new Histogram({
    name: `${METRIC_PREFIX}retrieval_seconds`,
    help: 'Hybrid retrieval of one query, passages read from the store included.',
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  private readonly ingestionDuration = new Histogram({
    name: `${METRIC_PREFIX}ingestion_seconds`,
    help: 'One run of an ingestion job, by outcome.',
    labelNames: ['outcome'],
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });
  private readonly ingestionChunks = new Counter({
    name: `${METRIC_PREFIX}ingestion_chunks_total`,
    help: 'Chunks committed by ingestion.',
    registers: [this.registry],
  });

  private readonly indexEvictions = new Counter({
    name: `${METRIC_PREFIX}index_cache_evictions_total`,
    help: "Organisations' search indexes dropped from memory to stay within INDEX_CACHE_MAX_BYTES.",
    registers: [this.registry],
  });

  constructor(queues: readonly CountedQueue[], logger: Logger) {
    registerQueueGauges(this.registry, queues, logger);
  }

  /** `jobCreatedAt`: the job's timestamp (epoch ms), for the queue wait of the first attempt. */
  attemptStarted(attempt: number, jobCreatedAt: number): void {
    this.attempts.inc();
    if (attempt === 1) this.queueWait.observe(Math.max(0, Date.now() - jobCreatedAt) / 1000);
  }

  generationJobEnded(outcome: GenerationJobOutcome, seconds: number): void {
    this.jobDuration.observe({ outcome }, seconds);
    if (outcome === 'retry') this.retries.inc();
  }

  readonly modelRequested: ModelRequestObserver = (report) => {
    const { model, operation, outcome } = report;
    this.modelRequest.observe({ model, operation, outcome }, report.seconds);
    if (!report.usage) return;
    this.modelTokens.inc({ model, direction: 'in' }, report.usage.promptTokens);
    this.modelTokens.inc({ model, direction: 'out' }, report.usage.completionTokens);
  };

  readonly retrieved = (seconds: number): void => {
    this.retrieval.observe(seconds);
  };

  ingestionEnded(outcome: IngestionJobOutcome, seconds: number): void {
    this.ingestionDuration.observe({ outcome }, seconds);
  }

  chunksIngested(count: number): void {
    this.ingestionChunks.inc(count);
  }

  readonly indexEvicted = (): void => {
    this.indexEvictions.inc();
  };

  /** Gauges of the index cache, read when metrics are scraped. */
  watchIndexCache(cache: { readonly bytes: number; readonly organisations: number }): void {
    new Gauge({
      name: `${METRIC_PREFIX}index_cache_bytes`,
      help: "Estimated bytes of the organisations' search indexes held in memory (bounded by INDEX_CACHE_MAX_BYTES).",
      registers: [this.registry],
      collect() {
        this.set(cache.bytes);
      },
    });
    new Gauge({
      name: `${METRIC_PREFIX}index_cache_organisations`,
      help: 'Organisations whose search indexes are held in memory.',
      registers: [this.registry],
      collect() {
        this.set(cache.organisations);
      },
    });
  }
}

/** Seconds since `startedAt` (a performance.now() value). */
export function secondsSince(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}
