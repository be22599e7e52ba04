import type { BotCompleteFrame, GenerationFrame } from '@ragstream/protocol';
import { Deferred, within } from './deferred.ts';

/**
 * One generation as one client connection sees it: arrival times, the text of the
 * latest attempt, and every breach of the frame protocol (seq gaps, duplicates,
 * reordering, frames after the terminal one, a terminal text that differs from the deltas).
 */
export class AnswerTracker {
  /** performance.now() just before the message_upload frame was sent, if this client sent it. */
  sentAt: number | undefined;
  confirmedAt: number | undefined;
  firstPartialAt: number | undefined;
  terminalAt: number | undefined;
  terminal: BotCompleteFrame | undefined;
  frames = 0;
  text = '';
  readonly violations: string[] = [];
  /** Append in Redis -> receive here, per frame that carries `appendedAt` (workers with FRAME_APPEND_TIMESTAMPS). */
  readonly deliveryMs: number[] = [];
  /** Frames never received: the sum of the seq gaps. */
  missing = 0;
  /** Frames received again, or out of order. */
  duplicates = 0;
  private lastSeq = 0;
  private attempt = 0;
  private readonly firstPartial = new Deferred<number>();
  private readonly done = new Deferred<BotCompleteFrame>();

  constructor(readonly generationId: string) {}

  add(frame: GenerationFrame, at: number): void {
    this.frames += 1;
    // Same machine, same clock: Redis's TIME at the append against this process's wall clock.
    if (frame.appendedAt !== undefined) this.deliveryMs.push(performance.timeOrigin + at - frame.appendedAt);
    if (this.terminal) this.violate(`${frame.mt} seq ${frame.seq} after the terminal frame`);
    if (frame.seq > this.lastSeq + 1) this.missing += frame.seq - this.lastSeq - 1;
    if (frame.seq <= this.lastSeq) this.duplicates += 1;
    if (frame.seq !== this.lastSeq + 1) {
      this.violate(
        frame.seq <= this.lastSeq
          ? `seq ${frame.seq} again or out of order after ${this.lastSeq}`
          : `seq gap: ${frame.seq} after ${this.lastSeq}`,
      );
    }
    this.lastSeq = Math.max(this.lastSeq, frame.seq);
    if (frame.attempt < this.attempt) this.violate(`attempt ${frame.attempt} after attempt ${this.attempt}`);
    if (frame.attempt > this.attempt) {
      if (frame.mt === 'chat_message_bot_partial') this.violate(`attempt ${frame.attempt} began with a partial, not typing_indicator`);
      this.attempt = frame.attempt;
      this.text = '';
    }
    switch (frame.mt) {
      case 'typing_indicator':
        break;
      case 'chat_message_bot_partial':
        this.text += frame.delta;
        if (this.firstPartialAt === undefined) {
          this.firstPartialAt = at;
          this.firstPartial.resolve(at);
        }
        break;
      case 'chat_message_bot_complete':
        if (this.terminal) break;
        if (frame.text !== this.text)
          this.violate(`terminal text (${frame.text.length} chars) differs from the deltas received (${this.text.length} chars)`);
        this.terminal = frame;
        this.terminalAt = at;
        this.done.resolve(frame);
        // An answer stopped before its first token has no partial.
        this.firstPartial.reject(new Error(`${this.generationId} ended (${frame.status}) before any partial`));
        break;
    }
  }

  /** The highest seq received: where a reconnected client resumes. */
  get seq(): number {
    return this.lastSeq;
  }

  /** Time to first token, if this client sent the message and a partial arrived. */
  get ttft(): number | undefined {
    return this.sentAt === undefined || this.firstPartialAt === undefined ? undefined : this.firstPartialAt - this.sentAt;
  }

  waitFirstPartial(timeoutMs: number): Promise<number> {
    return within(this.firstPartial.promise, timeoutMs, `first partial of ${this.generationId}`);
  }

  waitTerminal(timeoutMs: number): Promise<BotCompleteFrame> {
    return within(this.done.promise, timeoutMs, `terminal frame of ${this.generationId}`);
  }

  /** The connection is gone: nobody should wait for more frames. */
  abandon(reason: string): void {
    const error = new Error(`${this.generationId}: ${reason}`);
    this.firstPartial.reject(error);
    this.done.reject(error);
  }

  private violate(message: string): void {
    this.violations.push(`${this.generationId}: ${message}`);
  }
}
