import { BOT_STATUSES } from '@ragstream/protocol';
import type { CountedQueue, Logger } from '@ragstream/runtime';
import { createMetricsRegistry, METRIC_PREFIX, registerQueueGauges } from '@ragstream/runtime';
import type { RequestHandler } from 'express';
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import { BoundedMap } from './bounded-map.ts';
import type { SentFrame, SentFrameSink, TransportKind } from './connection-meter.ts';
import { ConnectionMeter, TRANSPORT_KINDS } from './connection-meter.ts';

/** Generations and chats this node keeps clocks for; beyond it the oldest are forgotten. */
const TRACKED_KEYS = 10_000;
/** A stopped terminal frame this long after a stop on this node answers a later stop, not that one. */
const STOP_MATCH_MS = 60_000;

/**
 * The API node's metrics, each defined here once. Recording is synchronous and
 * allocation-light (a counter increment, a histogram observe, a map entry), so that it
 * can sit in the frame path.
 */
export class ApiMetrics implements SentFrameSink {
  readonly registry: Registry = createMetricsRegistry();
  /** performance.now() of each message's arrival, by generation id, until its first partial is sent. */
  private readonly arrivals = new BoundedMap<string, number>(TRACKED_KEYS);
  /** performance.now() of the latest stop received, by chat id, until a stopped terminal frame is sent. */
  private readonly stops = new BoundedMap<string, number>(TRACKED_KEYS);
  /** Generations whose terminal frame this node has counted. */
  private readonly ended = new BoundedMap<string, true>(TRACKED_KEYS);

  private readonly firstToken = new Histogram({
    name: `${METRIC_PREFIX}first_token_seconds`,
    help: "From a message's arrival at this node to the first chat_message_bot_partial of its answer sent to a client here.",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  private readonly frameGap = new Histogram({
    name: `${METRIC_PREFIX}frame_gap_seconds`,
    help: 'Between two live frames of one generation sent to one connection.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  private readonly stopLatency = new Histogram({
    name: `${METRIC_PREFIX}stop_latency_seconds`,
    help: 'From a stop received at this node to the first stopped terminal frame of that chat sent to a client here.',
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [this.registry],
  });
  private readonly answers = new Counter({
    name: `${METRIC_PREFIX}answers_total`,
    help: "Answers by final status, counted once per node when the generation's terminal frame is first sent here.",
    labelNames: ['status'],
    registers: [this.registry],
  });
  private readonly connections = new Gauge({
    name: `${METRIC_PREFIX}connections_open`,
    help: 'Open client connections by transport.',
    labelNames: ['transport'],
    registers: [this.registry],
  });
  private readonly resumes = new Counter({
    name: `${METRIC_PREFIX}resumes_total`,
    help: 'Connections opened with a generationId to resume, by transport.',
    labelNames: ['transport'],
    registers: [this.registry],
  });
  private readonly replayed = new Counter({
    name: `${METRIC_PREFIX}frames_replayed_total`,
    help: 'Generation frames sent from the log while a connection opened (resume and catch-up), by transport.',
    labelNames: ['transport'],
    registers: [this.registry],
  });
  private readonly errorFrames = new Counter({
    name: `${METRIC_PREFIX}error_frames_total`,
    help: 'error frames sent to clients, by code.',
    labelNames: ['code'],
    registers: [this.registry],
  });
  private readonly httpErrors = new Counter({
    name: `${METRIC_PREFIX}http_errors_total`,
    help: 'HTTP responses with a status of 400 or more, by status.',
    labelNames: ['status'],
    registers: [this.registry],
  });

  constructor(queues: readonly CountedQueue[], logger: Logger) {
    registerQueueGauges(this.registry, queues, logger);
    // Zeroes up front, so that every series exists from the first scrape on.
    for (const transport of TRANSPORT_KINDS) {
      this.connections.set({ transport }, 0);
      this.resumes.inc({ transport }, 0);
      this.replayed.inc({ transport }, 0);
    }
    for (const status of BOT_STATUSES) this.answers.inc({ status }, 0);
  }

  /** Counts the connection as open until the meter is closed. */
  openConnection(transport: TransportKind, resuming: boolean): ConnectionMeter {
    this.connections.inc({ transport });
    if (resuming) this.resumes.inc({ transport });
    return new ConnectionMeter(this, transport);
  }

  connectionClosed(transport: TransportKind): void {
    this.connections.dec({ transport });
  }

  /** A new answer was requested for a message that arrived at `receivedAt` (performance.now()). */
  answerRequested(generationId: string, receivedAt: number): void {
    this.arrivals.set(generationId, receivedAt);
  }

  stopRequested(chatId: string, receivedAt: number): void {
    this.stops.set(chatId, receivedAt);
  }

  errorSent(code: string): void {
    this.errorFrames.inc({ code });
  }

  frameSent({ transport, frame, at, replayed, gapSeconds }: SentFrame): void {
    if (gapSeconds !== undefined) this.frameGap.observe(gapSeconds);
    if (frame.mt === 'error') {
      this.errorSent(frame.code);
      return;
    }
    if (frame.mt === 'chat_message_bot_partial') {
      const arrived = this.arrivals.take(frame.generationId);
      if (arrived !== undefined) this.firstToken.observe((at - arrived) / 1000);
    }
    if (replayed && 'seq' in frame) this.replayed.inc({ transport });
    if (frame.mt !== 'chat_message_bot_complete') return;
    // An answer that ended without a partial (stopped while queued, failed) has no first token.
    this.arrivals.delete(frame.generationId);
    if (!this.ended.has(frame.generationId)) {
      this.ended.set(frame.generationId, true);
      this.answers.inc({ status: frame.status });
    }
    if (frame.status === 'stopped') {
      const stoppedAt = this.stops.take(frame.chatId);
      if (stoppedAt !== undefined && at - stoppedAt < STOP_MATCH_MS) this.stopLatency.observe((at - stoppedAt) / 1000);
    }
  }

  /** Counts responses of 400 and more by status, whichever route sent them. */
  readonly countHttpErrors: RequestHandler = (_req, res, next) => {
    res.once('finish', () => {
      if (res.statusCode >= 400) this.httpErrors.inc({ status: String(res.statusCode) });
    });
    next();
  };
}
