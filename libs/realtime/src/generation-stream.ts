import type { AnswerStage, UnsequencedFrame } from '@ragstream/protocol';
import type { AppendResult, FrameLog, RefusalReason } from './frame-log.ts';

export interface GenerationIdentity {
  chatId: string;
  generationId: string;
  attempt: number;
}

/** Why a stream ended early: an append was refused, or Redis failed. */
export type StreamEnd = { reason: RefusalReason } | { reason: 'failed'; error: Error };

/** A probe runs when nothing was appended for this long, so that a stop is seen while no text flows (retrieval). */
const MIN_PROBE_MS = 50;

/**
 * Publishes one attempt of a generation. Deltas are coalesced in short windows
 * (the first is flushed at once); appends are chained, never awaited by the
 * token loop, so a Redis round trip never sits between two tokens. The first
 * refused or failed append ends the stream and calls `onEnd` once, so that the
 * caller stops generating at once.
 */
export class GenerationStream {
  private confirmed = '';
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly probe: NodeJS.Timeout;
  private appendedSinceProbe = false;
  private probing = false;
  private chain: Promise<void> = Promise.resolve();
  private sentFirstDelta = false;
  private ending: StreamEnd | undefined;

  constructor(
    private readonly log: FrameLog,
    private readonly id: GenerationIdentity,
    private readonly windowMs: number,
    private readonly onEnd: (end: StreamEnd) => void,
  ) {
    this.probe = setInterval(() => this.checkIdle(), Math.max(windowMs, MIN_PROBE_MS));
    this.probe.unref();
  }

  /** The text Redis accepted: what clients have received once `drain` resolves. */
  get text(): string {
    return this.confirmed;
  }

  /** Set once an append was refused or failed. */
  get end(): StreamEnd | undefined {
    return this.ending;
  }

  typing(replyTo: string): void {
    this.enqueue([{ mt: 'typing_indicator', ...this.id, replyTo }]);
  }

  /** A pipeline stage began; sent after any text buffered so far. */
  status(stage: AnswerStage, language?: string): void {
    this.flush();
    this.enqueue([{ mt: 'chat_message_bot_status', ...this.id, stage, ...(language === undefined ? {} : { language }) }]);
  }

  push(delta: string): void {
    if (delta.length === 0 || this.ending) return;
    this.pending += delta;
    if (!this.sentFirstDelta) {
      this.sentFirstDelta = true;
      this.flush();
    } else {
      this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    }
  }

  /**
   * Drops text not yet sent. For a stop: Redis would refuse it anyway (the stop state is
   * set before workers are told), so sending it would only delay the terminal frame.
   */
  discardPending(): void {
    this.pending = '';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Flushes buffered text, waits until every frame so far is settled in Redis, and stops probing. */
  async drain(): Promise<StreamEnd | undefined> {
    this.flush();
    clearInterval(this.probe);
    await this.chain;
    return this.ending;
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const delta = this.pending;
    this.pending = '';
    this.enqueue([{ mt: 'chat_message_bot_partial', ...this.id, delta }], delta);
  }

  private checkIdle(): void {
    if (this.appendedSinceProbe || this.probing) {
      this.appendedSinceProbe = false;
      return;
    }
    this.probing = true;
    this.append([]);
    this.chain = this.chain.then(() => {
      this.probing = false;
    });
  }

  private enqueue(frames: UnsequencedFrame[], text = ''): void {
    this.appendedSinceProbe = true;
    this.append(frames, text);
  }

  private append(frames: UnsequencedFrame[], text = ''): void {
    this.chain = this.chain.then(async () => {
      if (this.ending) return;
      let result: AppendResult;
      try {
        result = await this.log.append(this.id.chatId, this.id.generationId, this.id.attempt, frames);
      } catch (err) {
        this.stop({ reason: 'failed', error: err instanceof Error ? err : new Error(String(err)) });
        return;
      }
      if (result.ok) this.confirmed += text;
      else this.stop({ reason: result.reason });
    });
  }

  private stop(end: StreamEnd): void {
    this.ending = end;
    this.pending = '';
    clearInterval(this.probe);
    if (this.timer) clearTimeout(this.timer);
    this.onEnd(end);
  }
}
