import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { GenerationLifecycle, GenerationQueue } from '@ragstream/lifecycle';
import { TokenQuotas } from '@ragstream/limits';
import type { GenerateJobData } from '@ragstream/protocol';
import { GENERATE_QUEUE, INGEST_QUEUE, RedisKeys } from '@ragstream/protocol';
import type { IngestionJobData } from '@ragstream/realtime';
import { countConnections, createRedis, FrameLog, IngestionQueue, listenForCancellations } from '@ragstream/realtime';
import { ConfigError, createLogger, healthRouter, metricsRouter, redisTarget, Shutdown } from '@ragstream/runtime';
import { createChatStore, createKnowledgeStore } from '@ragstream/store';
import { Worker } from 'bullmq';
import express from 'express';
import { loadWorkerConfig } from './config.ts';
import { GenerationProcessor } from './generation-processor.ts';
import { IngestionProcessor } from './ingestion-processor.ts';
import { StorePipelineContext } from './pipeline-context.ts';
import { createResponder } from './responder-factory.ts';
import { createRetrievalComponents } from './retrieval-components.ts';
import { WorkerMetrics } from './worker-metrics.ts';

/*
 * Lock timing: a SIGKILLed worker's job is retried by another within
 * lockDuration + 2 x stalledInterval (about 12 s), inside the 15 s target.
 */
const LOCK_DURATION_MS = 6_000;
const STALLED_INTERVAL_MS = 3_000;
const MAX_STALLED_COUNT = 2;
/** Shutdown time left after the grace period: handing answers back, then closing Redis and the stores. */
const SHUTDOWN_MARGIN_MS = 10_000;

async function main(): Promise<void> {
  const config = loadWorkerConfig();
  const logger = createLogger('worker', config.LOG_LEVEL);
  const graceMs = config.SHUTDOWN_GRACE_SECONDS * 1000;
  const shutdown = new Shutdown(logger, graceMs + SHUTDOWN_MARGIN_MS);
  shutdown.installSignalHandlers();

  const keys = new RedisKeys(config.REDIS_PREFIX);
  const target = redisTarget(config);
  const redis = createRedis(target, { name: 'worker-commands' });
  const bullConnection = createRedis(target, { name: 'worker-bullmq', retryForever: true });
  const cancelSubscriber = createRedis(target, { name: 'worker-cancel', retryForever: true });
  const store = createChatStore({ mongodbUrl: config.MONGODB_URL, dataDir: config.DATA_DIR });
  const knowledge = createKnowledgeStore({ mongodbUrl: config.MONGODB_URL, dataDir: config.DATA_DIR });
  await store.init();
  await knowledge.init();

  const log = new FrameLog(redis, keys, config.GENERATION_TTL_SECONDS, { stampAppendTime: config.FRAME_APPEND_TIMESTAMPS });
  const queue = new GenerationQueue(redis, keys, logger);
  const lifecycle = new GenerationLifecycle({ redis, keys, log, store, queue, logger, ttlSeconds: config.GENERATION_TTL_SECONDS });
  // Read by the queue gauges only; the worker itself takes ingestion jobs through its Worker.
  const ingestQueue = new IngestionQueue(redis, keys);
  const metrics = new WorkerMetrics([queue.queue, ingestQueue.queue], logger);
  const retrieval = createRetrievalComponents(config, knowledge, metrics.indexEvicted);
  metrics.watchIndexCache(retrieval.indexCache);
  const answers = config.WORKER_ROLES.has('answer');
  const ingests = config.WORKER_ROLES.has('ingest');
  const context = new StorePipelineContext(store, knowledge, retrieval.retriever, metrics.retrieved);
  const responder = createResponder(config, context, metrics.modelRequested);
  const processor = new GenerationProcessor({
    log,
    lifecycle,
    responder,
    countConnections: (chatId) => countConnections(redis, keys, chatId),
    flushWindowMs: config.FRAME_FLUSH_MS,
    abandonAfterMs: config.ABANDON_AFTER_SECONDS * 1000,
    pauseBeforeFinishMs: config.RAGSTREAM_TEST_PAUSE_BEFORE_FINISH_MS,
    logger,
    metrics,
    tokens: new TokenQuotas(redis, keys),
  });

  // Jobs record which process ran them (job.processedBy), for operators and the crash test.
  const workerName = `worker-${hostname()}-${process.pid}`;
  // Each role takes jobs from its queue only: an answer-only worker never parses or embeds a
  // document on the event loop that renews its answers' locks. Both queues' jobs keep the same locks.
  const workerOptions = (concurrency: number) => ({
    name: workerName,
    connection: bullConnection,
    prefix: keys.bullPrefix,
    concurrency,
    lockDuration: LOCK_DURATION_MS,
    stalledInterval: STALLED_INTERVAL_MS,
    maxStalledCount: MAX_STALLED_COUNT,
  });
  const worker = answers
    ? new Worker<GenerateJobData>(GENERATE_QUEUE, processor.process, workerOptions(config.WORKER_CONCURRENCY))
    : undefined;
  worker?.on('error', (err) => logger.error('worker error', { err }));
  worker?.on('failed', (job, err) => {
    if (!job) return;
    // Only a job that BullMQ will not run again (out of attempts, or stalled too often) is ended there.
    lifecycle.jobFailed(job.data, err.message).catch((error: unknown) =>
      logger.error('could not end a failed job', {
        jobId: job.id,
        chatId: job.data.chatId,
        generationId: job.data.generationId,
        err: error,
      }),
    );
  });
  const ingestion = new IngestionProcessor({
    knowledge,
    retrieval,
    chunkSize: config.CHUNK_SIZE,
    chunkOverlap: config.CHUNK_OVERLAP,
    logger,
    metrics,
  });
  const ingestWorker = ingests
    ? new Worker<IngestionJobData>(INGEST_QUEUE, ingestion.process, workerOptions(config.INGEST_CONCURRENCY))
    : undefined;
  ingestWorker?.on('error', (err) => logger.error('ingest worker error', { err }));
  ingestWorker?.on('failed', (job, err) => logger.warn('ingestion attempt failed', { jobId: job?.id, err }));
  await listenForCancellations(cancelSubscriber, keys, (generationId) => {
    if (worker?.cancelJob(generationId, 'stopped')) logger.debug('cancelled job', { generationId });
  });

  let server: ReturnType<typeof createServer> | undefined;
  if (config.WORKER_HTTP_PORT !== undefined) {
    const app = express();
    app.use(metricsRouter(metrics.registry, config.METRICS_TOKEN));
    app.use(healthRouter({ redis: () => redis.ping(), store: () => Promise.all([store.ping(), knowledge.ping()]) }));
    server = createServer(app);
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(config.WORKER_HTTP_PORT, config.HOST, resolve));
    logger.info('worker health endpoint listening', { port: (listening.address() as AddressInfo).port });
  }

  shutdown.add('http', () => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));
  // close() takes no new job and waits for the running ones; those still running after the grace are handed back.
  shutdown.add('workers', async () => {
    const handBack = setTimeout(() => {
      const count = processor.handBackAll();
      if (count > 0) logger.info('grace period over; handing running answers back to the queue', { count, graceMs });
    }, graceMs);
    try {
      await Promise.all([worker?.close(), ingestWorker?.close()]);
    } finally {
      clearTimeout(handBack);
    }
  });
  shutdown.add('cancel-subscriber', () => cancelSubscriber.quit());
  shutdown.add('queue', () => Promise.all([queue.close(), ingestQueue.close()]));
  shutdown.add('redis', () => Promise.all([redis.quit(), bullConnection.quit()]));
  shutdown.add('indexes', async () => {
    retrieval.indexCache.clear();
    await retrieval.milvus?.close();
  });
  shutdown.add('stores', () => Promise.all([store.close(), knowledge.close()]));

  await Promise.all([worker?.waitUntilReady(), ingestWorker?.waitUntilReady()]);
  logger.info('worker ready', {
    name: workerName,
    roles: [...config.WORKER_ROLES],
    responder: responder.name,
    concurrency: config.WORKER_CONCURRENCY,
    pid: process.pid,
  });
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`worker: ${err.message}\n`);
  else process.stderr.write(`worker: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
