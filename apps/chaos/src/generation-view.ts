import type { BotCompleteFrame, GenerationFrame } from '@ragstream/protocol';

/**
 * One generation as one (logical) client saw it, across reconnects: which seqs arrived,
 * when, duplicates, reordering, attempt regressions, frames after the terminal one,
 * and the text of the latest attempt as a client shows it.
 */
export class GenerationView {
  readonly seen = new Set<number>();
  /** Every frame received once, in arrival order. */
  readonly frames: GenerationFrame[] = [];
  readonly arrivals: { seq: number; at: number; attempt: number; mt: GenerationFrame['mt'] }[] = [];
  duplicates = 0;
  terminals = 0;
  terminal: BotCompleteFrame | undefined;
  terminalAt: number | undefined;
  /** Attempts in the order their first frame arrived. */
  readonly attempts: number[] = [];
  readonly violations: string[] = [];
  text = '';
  maxSeq = 0;
  private attempt = 0;
  private waiters: ((frame: BotCompleteFrame) => void)[] = [];
  private frameWaiters: { predicate: (frame: GenerationFrame) => boolean; resolve: () => void }[] = [];

  constructor(readonly generationId: string) {}

  add(frame: GenerationFrame, at: number): void {
    if (this.seen.has(frame.seq)) {
      this.duplicates += 1;
      return;
    }
    if (frame.seq < this.maxSeq) this.violations.push(`seq ${frame.seq} arrived after seq ${this.maxSeq} (out of order)`);
    if (this.terminal) this.violations.push(`${frame.mt} seq ${frame.seq} (attempt ${frame.attempt}) after the terminal frame`);
    this.seen.add(frame.seq);
    this.frames.push(frame);
    this.maxSeq = Math.max(this.maxSeq, frame.seq);
    this.arrivals.push({ seq: frame.seq, at, attempt: frame.attempt, mt: frame.mt });
    if (frame.attempt < this.attempt) {
      this.violations.push(
        `${frame.mt} seq ${frame.seq} of attempt ${frame.attempt} after attempt ${this.attempt} began (superseded attempt wrote)`,
      );
    } else if (frame.attempt > this.attempt) {
      this.attempt = frame.attempt;
      this.attempts.push(frame.attempt);
      this.text = '';
    }
    if (frame.mt === 'chat_message_bot_partial' && frame.attempt === this.attempt) this.text += frame.delta;
    if (frame.mt === 'chat_message_bot_complete') {
      this.terminals += 1;
      if (!this.terminal) {
        this.terminal = frame;
        this.terminalAt = at;
        for (const wake of this.waiters) wake(frame);
        this.waiters = [];
      }
    }
    this.frameWaiters = this.frameWaiters.filter((w) => {
      if (!w.predicate(frame)) return true;
      w.resolve();
      return false;
    });
  }

  get lastSeq(): number {
    // The highest seq with every earlier one received: what a client may resume from.
    let seq = 0;
    while (this.seen.has(seq + 1)) seq += 1;
    return seq;
  }

  get currentAttempt(): number {
    return this.attempt;
  }

  /** Seqs 1..finalSeq that never arrived. */
  missing(finalSeq: number): number[] {
    const missing: number[] = [];
    for (let seq = 1; seq <= finalSeq; seq += 1) if (!this.seen.has(seq)) missing.push(seq);
    return missing;
  }

  /** The first frame that arrived after `at`, if any. */
  firstArrivalAfter(at: number): number | undefined {
    let first: number | undefined;
    for (const arrival of this.arrivals) if (arrival.at > at && (first === undefined || arrival.at < first)) first = arrival.at;
    return first;
  }

  waitTerminal(timeoutMs: number): Promise<BotCompleteFrame | undefined> {
    if (this.terminal) return Promise.resolve(this.terminal);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        resolve(undefined);
      }, timeoutMs);
      const wake = (frame: BotCompleteFrame): void => {
        clearTimeout(timer);
        resolve(frame);
      };
      this.waiters.push(wake);
    });
  }

  /** Resolves true when a frame matching arrives (or already has), false after the timeout. */
  waitFrame(predicate: (frame: GenerationFrame) => boolean, timeoutMs: number): Promise<boolean> {
    if (this.frames.some(predicate)) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.frameWaiters = this.frameWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      const waiter = {
        predicate,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      this.frameWaiters.push(waiter);
    });
  }
}
