import type { IntervalHistogram } from 'node:perf_hooks';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TestCluster } from '@ragstream/testing';
import { MetricsScrape } from '@ragstream/testing';
import { Redis } from 'ioredis';
import type { AnswerRecord } from './load-summary.ts';
import { round } from './percentiles.ts';
import type { ProcessSample } from './process-stats.ts';
import { sampleProcess, sampleRedis, sampleSelf } from './process-stats.ts';

export type ProcessKind = 'api' | 'worker' | 'redis' | 'load';

/** One process's share of the run, from the first message sent to the end of the run. */
export interface ProcessCost {
  kind: ProcessKind;
  name: string;
  cpuSeconds: number;
  peakRssMb: number;
  /** Node processes with a /metrics endpoint: event-loop delay over the same span. */
  eventLoopLag?: { p99: number; max: number };
}

export interface SteadyState {
  seconds: number;
  /** Answers streaming at once throughout. */
  answers: number;
  deliveredTokens: number;
  processes: ProcessCost[];
  cpuPerThousandTokens: Partial<Record<ProcessKind | 'total', number>>;
}

export function perThousand(processes: readonly ProcessCost[], tokens: number): Partial<Record<ProcessKind | 'total', number>> {
  const out: Partial<Record<ProcessKind | 'total', number>> = {};
  for (const kind of ['api', 'worker', 'redis', 'load'] as const) {
    const own = processes.filter((p) => p.kind === kind);
    if (own.length > 0) out[kind] = round((own.reduce((sum, p) => sum + p.cpuSeconds, 0) * 1000) / tokens, 4);
  }
  // The server side, as the bare stack's servers, emitters and Redis: the load generator is not counted.
  out.total = round((out.api ?? 0) + (out.worker ?? 0) + (out.redis ?? 0), 4);
  return out;
}

/** CPU-seconds of each process between start() and end(), and its peak memory at the end. */
export class CostMeter {
  private readonly redis: { name: string; client: Redis }[] = [];
  private readonly before = new Map<string, ProcessSample>();
  private readonly pids: { kind: ProcessKind; name: string; pid: number }[] = [];
  /** This process's own event-loop delay, as prom-client measures the others'. */
  private ownLag: IntervalHistogram | undefined;

  /**
   * `metricsUrls`: /metrics of each process by name, whose event-loop delay histogram a scrape reads and resets.
   * `redisUrls`: each Redis server's own URL (a Cluster's masters), by default the cluster's Redis.
   */
  constructor(
    private readonly cluster: TestCluster | undefined,
    private readonly metricsUrls: ReadonlyMap<string, string> = new Map(),
    private readonly redisUrls: readonly string[] = cluster ? [cluster.redisUrl] : [],
  ) {}

  /** Each process's event-loop delay since the last scrape; a process that does not answer is left out. */
  private async scrapeLag(): Promise<Map<string, { p99: number; max: number }>> {
    const out = new Map<string, { p99: number; max: number }>();
    await Promise.all(
      [...this.metricsUrls].map(async ([name, url]) => {
        const scrape = await MetricsScrape.fetch(url).catch(() => undefined);
        if (!scrape) return;
        out.set(name, {
          p99: round(scrape.value('nodejs_eventloop_lag_p99_seconds') * 1000, 1),
          max: round(scrape.value('nodejs_eventloop_lag_max_seconds') * 1000, 1),
        });
      }),
    );
    return out;
  }

  async start(): Promise<void> {
    const { cluster } = this;
    if (cluster) {
      for (const [kind, list] of [
        ['api', cluster.apis],
        ['worker', cluster.workers],
      ] as const) {
        list.forEach((p, i) => {
          if (p.pid !== undefined) this.pids.push({ kind, name: `${kind}-${i}`, pid: p.pid });
        });
      }
      for (const [i, url] of this.redisUrls.entries()) {
        const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
        await client.connect();
        const name = this.redisUrls.length === 1 ? 'redis' : `redis-${i}`;
        this.redis.push({ name, client });
        this.before.set(name, await sampleRedis(client));
      }
    }
    for (const { name, pid } of this.pids) {
      const sample = sampleProcess(pid);
      if (sample) this.before.set(name, sample);
    }
    this.before.set('load', sampleSelf());
    // Resets the histograms, so that the end's scrape covers the run alone.
    if (this.metricsUrls.size > 0) {
      await this.scrapeLag();
      this.ownLag = monitorEventLoopDelay({ resolution: 10 });
      this.ownLag.enable();
    }
  }

  /** Each process's CPU-seconds so far (Redis's: the server's). */
  async cpuNow(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const { name, pid } of this.pids) {
      const sample = sampleProcess(pid);
      if (sample) out.set(name, sample.cpuSeconds);
    }
    for (const { name, client } of this.redis) out.set(name, (await sampleRedis(client)).cpuSeconds);
    out.set('load', sampleSelf().cpuSeconds);
    return out;
  }

  async end(): Promise<ProcessCost[]> {
    const out: ProcessCost[] = [];
    const lag = await this.scrapeLag();
    if (this.ownLag) {
      this.ownLag.disable();
      lag.set('load', { p99: round(this.ownLag.percentile(99) / 1e6, 1), max: round(this.ownLag.max / 1e6, 1) });
    }
    const add = (kind: ProcessKind, name: string, after: ProcessSample | undefined): void => {
      const before = this.before.get(name);
      if (!before || !after) return;
      const eventLoopLag = lag.get(name);
      out.push({
        kind,
        name,
        cpuSeconds: round(after.cpuSeconds - before.cpuSeconds, 2),
        peakRssMb: round(after.peakRssMb, 1),
        ...(eventLoopLag === undefined ? {} : { eventLoopLag }),
      });
    };
    for (const { kind, name, pid } of this.pids) add(kind, name, sampleProcess(pid));
    for (const { name, client } of this.redis) {
      add('redis', name, await sampleRedis(client));
      client.disconnect();
    }
    add('load', 'load', sampleSelf());
    return out;
  }
}

/** Polls until every chat streams, meters until the first answer ends; local mode only. */
export async function watchSteadyState(
  cluster: TestCluster | undefined,
  chats: number,
  records: readonly AnswerRecord[],
  charsPerToken: number,
  signal: AbortSignal,
  redisUrls?: readonly string[],
): Promise<SteadyState | null> {
  if (!cluster) return null;
  const charsReceived = (): number => records.reduce((total, record) => total + record.answer.text.length, 0);
  const poll = (): Promise<void> => sleep(50, undefined, { signal }).catch(() => undefined);
  while (!signal.aborted && !(records.length >= chats && records.every((record) => record.answer.firstPartialAt !== undefined))) {
    if (records.some((record) => record.answer.terminal)) return null;
    await poll();
  }
  if (signal.aborted || records.some((record) => record.answer.terminal)) return null;
  const meter = new CostMeter(cluster, new Map(), redisUrls);
  await meter.start();
  const startedAt = performance.now();
  const charsBefore = charsReceived();
  while (!signal.aborted && !records.some((record) => record.answer.terminal)) await poll();
  const seconds = (performance.now() - startedAt) / 1000;
  const processes = await meter.end();
  const chars = charsReceived() - charsBefore;
  if (signal.aborted) return null;
  const deliveredTokens = Math.round(chars / charsPerToken);
  return {
    seconds: round(seconds, 1),
    answers: records.filter((record) => !record.answer.terminal).length,
    deliveredTokens,
    processes,
    cpuPerThousandTokens: deliveredTokens > 0 ? perThousand(processes, deliveredTokens) : {},
  };
}
