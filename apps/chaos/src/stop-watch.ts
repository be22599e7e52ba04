import type { ChaosEnv } from './chaos-env.ts';
import type { Summary } from './stats.ts';
import { summarize } from './stats.ts';

export interface StopSample {
  chatId: string;
  generationId: string;
  sentAt: number;
  /** Round trip of the stop request itself (REST POST /chat/:id/stop). */
  rttMs: number;
  /** When the poller first saw the terminal frame at the end of the Redis log. */
  loggedAt?: number;
  status?: string;
}

export interface StopReport {
  /** Stop sent → terminal frame appended to the Redis log, whatever its status (a stop that was ignored shows as the rest of the answer). */
  latency: Summary;
  /** Watched answers whose terminal frame says something other than `stopped`. */
  notStopped: { generationId: string; status: string }[];
  /** Allowed: flush window + the stop's own round trip + slack. */
  overBound: { generationId: string; latencyMs: number; boundMs: number }[];
  /** Stopped answers whose terminal frame never reached the log within the timeout. */
  neverLogged: string[];
  pollIntervalMs: number;
}

/**
 * Measures stop sent → terminal frame appended in the generation's Redis log, by
 * polling the tail of each watched log every few milliseconds (pipelined). It reads
 * the log rather than listening, so a lost pub/sub message cannot hide a late stop.
 */
export class StopWatch {
  private readonly samples: StopSample[] = [];
  private timer: NodeJS.Timeout | undefined;
  private polling = false;

  constructor(
    private readonly env: ChaosEnv,
    private readonly pollIntervalMs = 5,
  ) {}

  /** Sends REST stop for a chat on `apiUrl` and watches the given generations; returns the ids the server says it stopped. */
  async stop(apiUrl: string, chatId: string, generationIds: string[]): Promise<string[]> {
    const sentAt = performance.now();
    const samples = generationIds.map((generationId) => ({ chatId, generationId, sentAt, rttMs: Number.NaN }) as StopSample);
    this.samples.push(...samples);
    this.ensurePolling();
    const response = await fetch(`${apiUrl}/chat/${chatId}/stop`, { method: 'POST' });
    const body = (await response.json()) as { stopped?: string[] };
    const rtt = performance.now() - sentAt;
    for (const sample of samples) sample.rttMs = rtt;
    if (!response.ok) throw new Error(`POST /chat/${chatId}/stop: ${response.status}`);
    return body.stopped ?? [];
  }

  private ensurePolling(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.pollIntervalMs);
  }

  private async poll(): Promise<void> {
    if (this.polling) return;
    this.polling = true;
    try {
      const pending = this.samples.filter((s) => s.loggedAt === undefined);
      if (pending.length === 0) return;
      const pipeline = this.env.inspect.pipeline();
      for (const sample of pending) pipeline.lindex(this.env.keys.generationLog(sample.chatId, sample.generationId), -1);
      const results = await pipeline.exec();
      const at = performance.now();
      pending.forEach((sample, i) => {
        const raw = results?.[i]?.[1];
        if (typeof raw !== 'string') return;
        const frame = JSON.parse(raw) as { mt?: string; status?: string };
        if (frame.mt !== 'chat_message_bot_complete') return;
        sample.loggedAt = at;
        sample.status = frame.status ?? '';
      });
    } catch {
      // Redis away for a moment: poll again.
    } finally {
      this.polling = false;
    }
  }

  /** Waits until every watched terminal frame is logged (or the timeout), then reports. */
  async report(flushWindowMs: number, slackMs: number, timeoutMs = 30_000): Promise<StopReport> {
    const deadline = performance.now() + timeoutMs;
    while (this.samples.some((s) => s.loggedAt === undefined) && performance.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    const stopped = this.samples.filter((s) => s.loggedAt !== undefined);
    const latencies = stopped.map((s) => (s.loggedAt ?? 0) - s.sentAt);
    const overBound = stopped
      .map((s) => ({
        generationId: s.generationId,
        latencyMs: (s.loggedAt ?? 0) - s.sentAt,
        boundMs: flushWindowMs + s.rttMs + slackMs + this.pollIntervalMs,
      }))
      .filter((s) => s.latencyMs > s.boundMs);
    return {
      latency: summarize(latencies),
      overBound,
      notStopped: stopped.filter((s) => s.status !== 'stopped').map((s) => ({ generationId: s.generationId, status: s.status ?? '' })),
      neverLogged: this.samples.filter((s) => s.loggedAt === undefined).map((s) => s.generationId),
      pollIntervalMs: this.pollIntervalMs,
    };
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
