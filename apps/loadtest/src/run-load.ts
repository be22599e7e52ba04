import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { syntheticAnswer } from '@ragstream/rag';
import { freePort, HttpClient, LOAD_GENERATOR_LIMITS, RedisClusterServers, seededRandom, TestCluster } from '@ragstream/testing';
import { BaselineChat } from './baseline-chat.ts';
import { ChatSession } from './chat-session.ts';
import type { Transport } from './chat-socket.ts';
import { Deferred, limiter, mapLimit } from './deferred.ts';
import type { LoadOptions, LocalClusterOptions } from './load-config.ts';
import { transportFor } from './load-config.ts';
import type { AnswerCounts, AnswerRecord } from './load-summary.ts';
import { checkStoredAnswers, classifyAnswers } from './load-summary.ts';
import type { Histogram, Timeline } from './load-timeline.ts';
import { histogram, TimelineRecorder } from './load-timeline.ts';
import type { Summary } from './percentiles.ts';
import { round, summarize } from './percentiles.ts';
import { syntheticWorkerEnv } from './phase-workers.ts';
import { errorText, Problems } from './problems.ts';
import type { ProcessCost, ProcessKind, SteadyState } from './process-costs.ts';
import { CostMeter, perThousand, watchSteadyState } from './process-costs.ts';

export interface LoadResult {
  kind: 'ragstream-loadtest';
  startedAt: string;
  mode: 'local' | 'deployment';
  config: LoadOptions & { redisPrefix: string | undefined };
  /** First message sent -> last terminal frame received. */
  wallMs: number;
  answers: AnswerCounts;
  ttftMs: Summary;
  answerMs: Summary;
  /** Stop sent -> terminal 'stopped' frame received. */
  stopLatencyMs: Summary;
  /** Frame appended in Redis -> received by the client, over every frame that carries its append time (local mode). */
  deliveryMs: Summary;
  /**
   * Local mode with `--baseline`: time to first token of the same synthetic answers run in an API
   * node's own process (no queue, worker or Redis), over the same run; null without.
   */
  ttftBaselineMs: Summary | null;
  /** ttftMs - ttftBaselineMs at each percentile, and their ratio: what the queue, Redis and worker path adds. */
  ttftOverhead: { p50Ms: number; p99Ms: number; p50Ratio: number; p99Ratio: number } | null;
  /** Per transport: its chats, answers that ended, time to first token, and deliberate reconnects. */
  byTransport: Partial<Record<Transport, { chats: number; answersEnded: number; ttftMs: Summary; reconnects: number }>>;
  /** Connections dropped mid-answer on purpose and resumed on another node (`--reconnect-ratio`). */
  reconnects: number;
  /**
   * Local mode: the same costs over the steady state only, from the moment every chat's first
   * answer has its first partial to the first answer's end, as the bare stack's figures are
   * sampled; null when there was none (answers shorter than the ramp).
   */
  steadyState: SteadyState | null;
  /** Local mode: every process of the cluster, Redis and this one; else this one only. */
  processes: ProcessCost[];
  /** Local mode: tokens the clients received (text received / the synthetic token's mean length). */
  deliveredTokens: number | null;
  /** Local mode: CPU-seconds per 1,000 delivered tokens, per kind of process and in all (API nodes, workers and Redis). */
  cpuPerThousandTokens: Partial<Record<ProcessKind | 'total', number>> | null;
  summary: LoadSummary;
  /** Once a second: frames/s, tokens/s, answers in flight, CPU % per process (the HTML report's time series). */
  timeline: Timeline;
  histograms: { ttftMs: Histogram; deliveryMs: Histogram };
  frames: number;
  framesPerSecond: number;
  errors: { count: number; examples: string[] };
  /** Seq gaps, duplicates, reordering, frames after the terminal, terminal text != deltas, invalid frames. */
  violations: { count: number; examples: string[] };
  /** Stored answer (GET /chat/:id/messages) vs the text and status the client received. */
  stored: { checked: number; mismatches: number; examples: string[] };
  /** Local mode only: completed answers whose text is not syntheticAnswer(tokens). */
  fullTextMismatches: number | null;
  ok: boolean;
}

/** The names, for tools that read the JSON: each latency with p50 and p99. */
export interface LoadSummary {
  answers_completed: number;
  lost_frames: number;
  duplicate_frames: number;
  ttft_ms: { p50: number; p99: number };
  /** Local mode with `--baseline`: ttft_ms minus the in-process baseline's, at each percentile. */
  ttft_overhead_ms: { p50: number; p99: number } | null;
  delivery_ms: { p50: number; p99: number };
  stop_latency_ms: { p50: number; p99: number };
  errors: number;
  cpu_seconds: Record<string, number>;
  peak_rss_mb: Record<string, number>;
  /** Local mode: each Node process's event-loop delay over the run (prom-client's monitorEventLoopDelay). */
  event_loop_lag_ms: Record<string, { p99: number; max: number }>;
}

export interface LoadHooks {
  log?: (line: string) => void;
  /** Aborting ends the run early (answers in flight are abandoned); the report still comes. */
  signal?: AbortSignal;
  onCluster?: (cluster: TestCluster) => void;
}

/** Runs the load: against `options.urls`, or a cluster it starts and stops itself. */
export async function runLoad(options: LoadOptions, hooks: LoadHooks = {}): Promise<LoadResult> {
  const log = hooks.log ?? (() => undefined);
  if (!options.local) {
    await preflight(options.urls);
    return drive(options, options.urls, undefined, hooks);
  }
  const servers = options.local.redisCluster ? await RedisClusterServers.start(3) : undefined;
  try {
    if (servers) log(`Redis Cluster up: ${servers.url}`);
    return await runLocal(options, options.local, hooks, servers);
  } finally {
    await servers?.stop();
  }
}

/** A cluster of our own, on the Redis at REDIS_URL or on `servers`. */
async function runLocal(
  options: LoadOptions,
  local: LocalClusterOptions,
  hooks: LoadHooks,
  servers: RedisClusterServers | undefined,
): Promise<LoadResult> {
  const log = hooks.log ?? (() => undefined);
  log(`starting a local cluster: ${local.apis} API nodes, ${local.workers} workers...`);
  const cluster = await TestCluster.start({
    apis: local.apis,
    redisUrl: servers?.url,
    // Added below, each with a metrics port: the report reads every process's event-loop lag.
    workers: 0,
    env: { LLM_PROVIDER: 'synthetic', ...LOAD_GENERATOR_LIMITS },
    apiEnv: local.baselineChats > 0 ? { LOADTEST_BASELINE: '1' } : {},
    workerEnv: {
      ...syntheticWorkerEnv({
        tokens: local.tokens,
        tokensPerSecond: local.tokensPerSecond,
        concurrency: local.workerConcurrency,
        flushMs: local.flushMs,
      }),
      // Frames carry their append time, so that delivery latency is measured.
      FRAME_APPEND_TIMESTAMPS: '1',
    },
  });
  hooks.onCluster?.(cluster);
  try {
    const metricsUrls = new Map(cluster.apiUrls.map((url, i) => [`api-${i}`, `${url}/metrics`]));
    const ports: number[] = [];
    for (let i = 0; i < local.workers; i += 1) ports.push(await freePort());
    // Called in order, so that worker-i is cluster.workers[i].
    await Promise.all(
      ports.map((port, i) => {
        metricsUrls.set(`worker-${i}`, `http://127.0.0.1:${port}/metrics`);
        return cluster.addWorker({ WORKER_HTTP_PORT: String(port) });
      }),
    );
    log(`cluster up: ${cluster.apiUrls.join(', ')} (prefix ${cluster.prefix})`);
    // Each master's INFO on a Redis Cluster: its CPU is the sum of theirs.
    const redisUrls = servers?.nodeUrls ?? [cluster.redisUrl];
    return await drive(options, cluster.apiUrls, cluster.prefix, hooks, { cluster, metricsUrls, redisUrls });
  } finally {
    await cluster.stop();
  }
}

async function preflight(urls: readonly string[]): Promise<void> {
  await Promise.all(
    urls.map(async (url) => {
      try {
        const response = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5_000) });
        if (!response.ok) throw new Error(`GET /healthz answered ${response.status}`);
      } catch (err) {
        throw new Error(`API node ${url} is not reachable (${errorText(err)}); is the deployment running?`);
      }
    }),
  );
}

async function drive(
  options: LoadOptions,
  urls: readonly string[],
  redisPrefix: string | undefined,
  hooks: LoadHooks,
  local?: { cluster: TestCluster; metricsUrls: ReadonlyMap<string, string>; redisUrls: readonly string[] },
): Promise<LoadResult> {
  const cluster = local?.cluster;
  const log = hooks.log ?? (() => undefined);
  const startedAt = new Date().toISOString();
  const random = seededRandom(options.seed);
  const errors = new Problems(10);
  const sessions: ChatSession[] = [];
  const records: AnswerRecord[] = [];
  let sent = 0;
  let stopsSent = 0;

  // One signal ends every wait: the hard deadline, or the caller's abort (Ctrl-C).
  const end = new AbortController();
  // Every chat may wait on it at once (a stop's or a reconnect's delay, a think time).
  setMaxListeners(options.chats + 10, end.signal);
  const onOuterAbort = (): void => end.abort(new Error('interrupted'));
  hooks.signal?.addEventListener('abort', onOuterAbort, { once: true });
  if (hooks.signal?.aborted) onOuterAbort();
  const start = performance.now();
  const sendUntil = start + options.durationS * 1000;
  const hardDeadline = setTimeout(
    () => end.abort(new Error('time is up (--duration + --grace)')),
    (options.durationS + options.graceS) * 1000,
  );
  const ended = new Promise<never>((_resolve, reject) => {
    end.signal.addEventListener('abort', () => reject(end.signal.reason instanceof Error ? end.signal.reason : new Error('aborted')), {
      once: true,
    });
  });
  ended.catch(() => undefined);
  const race = <T>(promise: Promise<T>): Promise<T> => Promise.race([promise, ended]);
  const progress = setInterval(() => {
    const done = records.filter((r) => r.answer.terminal).length;
    log(`${((performance.now() - start) / 1000).toFixed(0)} s: ${sent} sent, ${done} ended, ${sent - done} in flight`);
  }, 5_000);
  progress.unref();

  const setup = limiter(32);
  // Baseline chat k starts when chat k x (chats / baselines) has its session, so that both kinds
  // ask under the same load, from the ramp to the steady state.
  const baselines = options.local?.baselineChats ?? 0;
  const stride = baselines > 0 ? Math.max(1, Math.floor(options.chats / baselines)) : 0;
  const pacedBy = (k: number): number => Math.min(k * stride, options.chats - 1);
  const chatStarted = new Map(Array.from({ length: baselines }, (_, k) => [pacedBy(k), new Deferred<void>()]));
  const driveChat = async (index: number): Promise<void> => {
    const url = urls[index % urls.length] ?? '';
    const other = urls[(index + 1) % urls.length] ?? url;
    const userId = `loadtest-${index}`;
    try {
      const session = await setup(async () => {
        const chatId = await race(new HttpClient(url).createChat(userId));
        return race(ChatSession.open(transportFor(index, options.mix), url, chatId, options.timeoutMs));
      });
      sessions.push(session);
      chatStarted.get(index)?.resolve();
      for (let k = 0; k < options.messagesPerChat; k += 1) {
        if (end.signal.aborted || performance.now() >= sendUntil) break;
        const stopPlanned = random() < options.stopRatio;
        const stopDelay = random() * options.stopDelayMs;
        // Drawn only when asked for, so that runs without reconnects keep their seeded stop choices.
        const reconnectPlanned = !stopPlanned && options.reconnectRatio > 0 && random() < options.reconnectRatio;
        sent += 1;
        const answer = await race(session.ask(`Load test message ${k + 1} of chat ${index + 1}.`, userId, options.timeoutMs));
        const record: AnswerRecord = { answer, session };
        records.push(record);
        if (stopPlanned) {
          await race(answer.waitFirstPartial(options.timeoutMs)).catch((err: unknown) => {
            if (!answer.terminal) throw err; // An answer that ended without a partial needs no stop.
          });
          if (stopDelay > 0) await sleep(stopDelay, undefined, { signal: end.signal });
          if (!answer.terminal) {
            stopsSent += 1;
            if (stopsSent % 2 === 1) {
              record.stopSentAt = session.stop();
            } else {
              record.stopSentAt = performance.now();
              const { status, body } = await race(new HttpClient(other).post(`/chat/${session.chatId}/stop`));
              if (status !== 200) errors.add(`POST /chat/${session.chatId}/stop on ${other}: ${status} ${JSON.stringify(body)}`);
            }
          }
        }
        if (reconnectPlanned) {
          await race(answer.waitFirstPartial(options.timeoutMs)).catch((err: unknown) => {
            if (!answer.terminal) throw err;
          });
          if (stopDelay > 0) await sleep(stopDelay, undefined, { signal: end.signal });
          const next = urls[(urls.indexOf(session.baseUrl) + 1) % urls.length] ?? session.baseUrl;
          if (!answer.terminal) await race(session.reconnect(next, answer.generationId, options.timeoutMs));
        }
        await race(answer.waitTerminal(2 ** 31 - 1));
        if (options.thinkMs > 0) await sleep(options.thinkMs, undefined, { signal: end.signal });
      }
    } catch (err) {
      if (!end.signal.aborted) errors.add(`chat ${index + 1}: ${errorText(err)}`);
    } finally {
      chatStarted.get(index)?.resolve();
    }
  };

  const baselineTtft: number[] = [];
  const driveBaseline = async (index: number, tokens: number, tokensPerSecond: number): Promise<void> => {
    const url = urls[index % urls.length] ?? '';
    let chat: BaselineChat | undefined;
    const expectedText = syntheticAnswer(tokens);
    try {
      await race(chatStarted.get(pacedBy(index))?.promise ?? Promise.resolve());
      chat = await setup(() => race(BaselineChat.open(url, tokens, tokensPerSecond, options.timeoutMs)));
      for (let k = 0; k < options.messagesPerChat; k += 1) {
        if (end.signal.aborted || performance.now() >= sendUntil) break;
        const answer = await race(chat.ask(options.timeoutMs + (tokensPerSecond > 0 ? (tokens / tokensPerSecond) * 1000 : 0)));
        baselineTtft.push(answer.ttft);
        if (answer.text !== expectedText) errors.add(`baseline chat ${index + 1}: its answer's text is not the synthetic one`);
        if (options.thinkMs > 0) await sleep(options.thinkMs, undefined, { signal: end.signal });
      }
    } catch (err) {
      if (!end.signal.aborted) errors.add(`baseline chat ${index + 1}: ${errorText(err)}`);
    } finally {
      chat?.close();
    }
  };

  const meter = new CostMeter(cluster, local?.metricsUrls, local?.redisUrls);
  await meter.start();
  // Ends the steady-state watch when every chat is done, even if no answer ever ended.
  const driven = new AbortController();
  const charsPerToken = options.local ? syntheticAnswer(options.local.tokens).length / options.local.tokens : 1;
  const steady = watchSteadyState(
    cluster,
    options.chats,
    records,
    charsPerToken,
    AbortSignal.any([end.signal, driven.signal]),
    local?.redisUrls,
  );
  const recorder = new TimelineRecorder({
    counts: () => ({
      frames: sessions.reduce((total, session) => total + session.frames, 0),
      chars: records.reduce((total, record) => total + record.answer.text.length, 0),
      inFlight: records.filter((record) => !record.answer.terminal).length,
    }),
    cpu: () => meter.cpuNow(),
    charsPerToken,
  });
  await recorder.start();
  try {
    const answers = options.local;
    await Promise.all([
      ...Array.from({ length: options.chats }, (_, i) => driveChat(i)),
      ...(answers ? Array.from({ length: baselines }, (_, i) => driveBaseline(i, answers.tokens, answers.tokensPerSecond)) : []),
    ]);
  } finally {
    clearTimeout(hardDeadline);
    clearInterval(progress);
    hooks.signal?.removeEventListener('abort', onOuterAbort);
  }
  const runEnd = performance.now();
  const timeline = await recorder.stop();
  const processes = await meter.end();
  driven.abort();
  const steadyState = await steady;
  if (end.signal.aborted) log(`ended early: ${errorText(end.signal.reason)}`);
  await Promise.all(sessions.map((session) => session.close()));
  // Answers still running are stopped, best effort, so that the run leaves no work behind.
  const unfinished = [...new Set(records.filter((r) => !r.answer.terminal).map((r) => r.session))];
  if (unfinished.length > 0) {
    log(`stopping ${unfinished.length} unfinished answers`);
    await mapLimit(unfinished, 8, (session) =>
      fetch(`${session.baseUrl}/chat/${session.chatId}/stop`, { method: 'POST', signal: AbortSignal.timeout(5_000) }).catch(
        () => undefined,
      ),
    );
  }

  const expected = options.local ? syntheticAnswer(options.local.tokens) : undefined;
  const tally = classifyAnswers(records, expected, errors);
  tally.counts.sent = sent;
  for (const session of sessions) {
    for (const frame of session.errors) errors.add(`error frame on chat ${session.chatId}: ${frame.code}: ${frame.message}`);
    if (session.lost) errors.add(`chat ${session.chatId}: ${session.lost}`);
  }
  const violations = new Problems(10);
  for (const session of sessions) violations.addAll(session.allViolations());
  const stored = await checkStoredAnswers(sessions, records, errors);

  const frames = sessions.reduce((total, session) => total + session.frames, 0);
  const deliveredTokens =
    expected === undefined || !options.local
      ? null
      : Math.round(records.reduce((total, record) => total + record.answer.text.length, 0) / (expected.length / options.local.tokens));
  const cpuPerThousandTokens = deliveredTokens === null || deliveredTokens === 0 ? null : perThousand(processes, deliveredTokens);
  const byTransport: LoadResult['byTransport'] = {};
  for (const transport of new Set(sessions.map((session) => session.transport))) {
    const own = sessions.filter((session) => session.transport === transport);
    const answers = records.filter((record) => record.session.transport === transport).map((record) => record.answer);
    byTransport[transport] = {
      chats: own.length,
      answersEnded: answers.filter((answer) => answer.terminal).length,
      ttftMs: summarize(answers.flatMap((answer) => (answer.ttft === undefined ? [] : [answer.ttft]))),
      reconnects: own.reduce((total, session) => total + session.reconnects, 0),
    };
  }
  const ttftMs = summarize(tally.ttft);
  const ttftBaselineMs = baselines > 0 ? summarize(baselineTtft) : null;
  const ttftOverhead =
    ttftBaselineMs === null || ttftBaselineMs.count === 0
      ? null
      : {
          p50Ms: round(ttftMs.p50 - ttftBaselineMs.p50),
          p99Ms: round(ttftMs.p99 - ttftBaselineMs.p99),
          p50Ratio: round(ttftMs.p50 / ttftBaselineMs.p50),
          p99Ratio: round(ttftMs.p99 / ttftBaselineMs.p99),
        };
  // Until the last terminal frame, or the end of the run if some answer never ended.
  const { counts, firstSent, lastTerminal, fullTextMismatches } = tally;
  const wallMs = Number.isFinite(firstSent) ? Math.max(0, (counts.noTerminal > 0 ? runEnd : lastTerminal) - firstSent) : 0;
  const ok =
    errors.count === 0 &&
    violations.count === 0 &&
    stored.problems.count === 0 &&
    counts.noTerminal === 0 &&
    counts.failed === 0 &&
    fullTextMismatches === 0;
  return {
    kind: 'ragstream-loadtest',
    startedAt,
    mode: options.local ? 'local' : 'deployment',
    config: { ...options, urls: [...urls], redisPrefix },
    wallMs: round(wallMs),
    answers: counts,
    ttftMs,
    ttftBaselineMs,
    ttftOverhead,
    answerMs: summarize(tally.durations),
    stopLatencyMs: summarize(tally.stopLatency),
    deliveryMs: summarize(records.flatMap((record) => record.answer.deliveryMs)),
    byTransport,
    reconnects: sessions.reduce((total, session) => total + session.reconnects, 0),
    steadyState,
    timeline,
    histograms: {
      ttftMs: histogram(tally.ttft),
      deliveryMs: histogram(records.flatMap((record) => record.answer.deliveryMs)),
    },
    processes,
    deliveredTokens,
    cpuPerThousandTokens,
    summary: {
      answers_completed: counts.completed,
      lost_frames: records.reduce((total, record) => total + record.answer.missing, 0),
      duplicate_frames: records.reduce((total, record) => total + record.answer.duplicates, 0),
      ttft_ms: pick(ttftMs),
      ttft_overhead_ms: ttftOverhead === null ? null : { p50: ttftOverhead.p50Ms, p99: ttftOverhead.p99Ms },
      delivery_ms: pick(summarize(records.flatMap((record) => record.answer.deliveryMs))),
      stop_latency_ms: pick(summarize(tally.stopLatency)),
      errors: errors.count,
      cpu_seconds: Object.fromEntries(processes.map((p) => [p.name, p.cpuSeconds])),
      peak_rss_mb: Object.fromEntries(processes.map((p) => [p.name, p.peakRssMb])),
      event_loop_lag_ms: Object.fromEntries(processes.flatMap((p) => (p.eventLoopLag === undefined ? [] : [[p.name, p.eventLoopLag]]))),
    },
    frames,
    framesPerSecond: wallMs > 0 ? round(frames / (wallMs / 1000), 1) : 0,
    errors: { count: errors.count, examples: errors.examples },
    violations: { count: violations.count, examples: violations.examples },
    stored: { checked: stored.checked, mismatches: stored.problems.count, examples: stored.problems.examples },
    fullTextMismatches: expected === undefined ? null : fullTextMismatches,
    ok,
  };
}

function pick(summary: Summary): { p50: number; p99: number } {
  return { p50: summary.p50, p99: summary.p99 };
}
