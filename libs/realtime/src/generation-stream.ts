import type { AnswerStage, UnsequencedFrame } from '@ragstream/protocol';
import type { AppendResult, FrameLog, RefusalReason } from './frame-log.ts';
import { ProbeClock } from './probe-clock.ts';

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
 * (the first is flushed at once). One append is in flight at a time, never awaited
 * by the token loop, so a Redis round trip never sits between two tokens; frames
 * made meanwhile go together in the next append (adjacent partials as one), so that
 * a slow round trip delays the stream by one, not by one per frame. The first
 * refused or failed append ends the stream and calls `onEnd` once, so that the
 * caller stops generating at once.
 */
export class GenerationStream {
  private confirmed = '';
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private readonly probe: ProbeClock;
  private appendedSinceProbe = false;
  /** Frames (and their text) waiting for the append in flight to settle. */
  private batch: UnsequencedFrame[] = [];
  private batchText = '';
  private probeWanted = false;
  private sending: Promise<void> | undefined;
  private sentFirstDelta = false;
  private ending: StreamEnd | undefined;

  constructor(
    private readonly log: FrameLog,
    private readonly id: GenerationIdentity,
    private readonly windowMs: number,
    private readonly onEnd: (end: StreamEnd) => void,
  ) {
    this.probe = ProbeClock.every(Math.max(windowMs, MIN_PROBE_MS));
    this.probe.add(this);
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
    this.batch = [];
    this.batchText = '';
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Flushes buffered text, waits until every frame so far is settled in Redis, and stops probing. */
  async drain(): Promise<StreamEnd | undefined> {
    this.flush();
    this.probe.delete(this);
    while (this.sending) await this.sending;
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

  /** With nothing appended for a while, an empty append asks whether the attempt may go on (ProbeClock). */
  checkIdle(): void {
    if (this.appendedSinceProbe || this.sending) {
      this.appendedSinceProbe = false;
      return;
    }
    this.probeWanted = true;
    this.send();
  }

  private enqueue(frames: UnsequencedFrame[], text = ''): void {
    if (this.ending) return;
    this.appendedSinceProbe = true;
    this.batch.push(...frames);
    this.batchText += text;
    this.send();
  }

  private send(): void {
    if (this.sending) return;
    this.sending = this.sendBatches().finally(() => {
      this.sending = undefined;
      // Frames batched between the last append's end and this callback go now.
      if (!this.ending && (this.batch.length > 0 || this.probeWanted)) this.send();
    });
  }

  /** Appends what is batched, then what was batched meanwhile, until nothing is left or the stream ends. */
  private async sendBatches(): Promise<void> {
    while (!this.ending && (this.batch.length > 0 || this.probeWanted)) {
      const frames = mergePartials(this.batch);
      const text = this.batchText;
      this.batch = [];
      this.batchText = '';
      this.probeWanted = false;
      let result: AppendResult;
      try {
        result = await this.log.append(this.id.chatId, this.id.generationId, this.id.attempt, frames);
      } catch (err) {
        this.stop({ reason: 'failed', error: err instanceof Error ? err : new Error(String(err)) });
        return;
      }
      if (!result.ok) {
        this.stop({ reason: result.reason });
        return;
      }
      this.confirmed += text;
    }
  }

  private stop(end: StreamEnd): void {
    this.ending = end;
    this.pending = '';
    this.batch = [];
    this.batchText = '';
    this.probe.delete(this);
    if (this.timer) clearTimeout(this.timer);
    this.onEnd(end);
  }
}

/** Adjacent partial frames as one: clients get the same text in fewer frames. */
function mergePartials(frames: readonly UnsequencedFrame[]): UnsequencedFrame[] {
  const merged: UnsequencedFrame[] = [];
  for (const frame of frames) {
    const last = merged.at(-1);
    if (last?.mt === 'chat_message_bot_partial' && frame.mt === 'chat_message_bot_partial') {
      merged[merged.length - 1] = { ...last, delta: last.delta + frame.delta };
    } else merged.push(frame);
  }
  return merged;
}
