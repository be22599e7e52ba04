import type { GenerationFrame, ResumeParams, ResumeUnavailableFrame } from '@ragstream/protocol';
import type { FrameHub, HubMember } from './frame-hub.ts';
import type { FrameLog, GenerationMeta } from './frame-log.ts';
import type { RealtimeLogger } from './realtime-logger.ts';

/** The part of the chat's turn order a subscription reads: which generation runs now. */
export interface RunningGeneration {
  head(chatId: string): Promise<string | undefined>;
}

export interface SubscriptionDeps {
  hub: FrameHub;
  log: Pick<FrameLog, 'readForClients' | 'meta'>;
  fifo: RunningGeneration;
}

export type SubscriptionFrame = GenerationFrame | ResumeUnavailableFrame;

/** The client connection a subscription feeds. */
export interface SubscriptionOwner {
  send(frame: SubscriptionFrame): void;
  /**
   * The frame stream has a hole that the log could not fill (Redis kept failing): the
   * owner ends the client's connection so that the client resumes, on this node or another.
   */
  fail(error: unknown): void;
  logger: RealtimeLogger;
}

/** Backoff between reads of the log that failed; after the last one the owner is told. */
const RETRY_DELAYS_MS = [100, 250, 500, 1000, 2000];

type Step = { kind: 'frame'; frame: GenerationFrame } | { kind: 'resync' };

interface Tracked {
  last: number;
  ended: boolean;
}

/**
 * One client connection's view of a chat's generations: replay from the log, then
 * live frames, each generation's frames delivered once and in seq order. Pub/sub loses
 * frames whenever the subscriber connection drops, so a jump in seq (or a reconnect of
 * the subscriber) is filled from the log before anything later is delivered.
 */
export class ChatSubscription {
  private readonly generations = new Map<string, Tracked>();
  /** Live frames and resyncs waiting behind a replay, backfill or resync in progress. */
  private readonly steps: Step[] = [];
  private busy = true;
  private closed = false;
  private readonly member: HubMember = {
    frame: (frame) => this.onFrame(frame),
    reconnected: () => this.enqueue({ kind: 'resync' }),
  };

  private constructor(
    private readonly deps: SubscriptionDeps,
    private readonly chatId: string,
    private readonly owner: SubscriptionOwner,
  ) {}

  /**
   * Subscribes first and reads the log second, so that nothing published in between
   * is lost; frames seen twice are dropped by seq.
   * With `resume.generationId`, replays that generation after `lastSeq` (0 = from the start),
   * or sends `resume_unavailable` if the log cannot serve it; in any case replays the chat's
   * running answer from its current attempt's start.
   */
  static async open(deps: SubscriptionDeps, chatId: string, resume: ResumeParams, owner: SubscriptionOwner): Promise<ChatSubscription> {
    const subscription = new ChatSubscription(deps, chatId, owner);
    await deps.hub.join(chatId, subscription.member);
    try {
      await subscription.replay(resume);
    } catch (err) {
      await subscription.close();
      throw err;
    }
    void subscription.drain();
    return subscription;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.steps.length = 0;
    await this.deps.hub.leave(this.chatId, this.member);
  }

  private async replay(resume: ResumeParams): Promise<void> {
    const running = await this.deps.fifo.head(this.chatId);
    const resumed = resume.generationId;
    if (resumed !== undefined) await this.resume(resumed, resume.lastSeq ?? 0, running);
    if (running !== undefined && running !== resumed) await this.follow(running, await this.deps.log.meta(this.chatId, running));
  }

  private async resume(generationId: string, after: number, running: string | undefined): Promise<void> {
    // Meta first: its seq can only be behind the log read after it, never ahead.
    const meta = await this.deps.log.meta(this.chatId, generationId);
    const { frames, withheld } = await this.deps.log.readForClients(this.chatId, generationId, after);
    const unavailable = meta === undefined ? generationId !== running : frames.length === 0 && !withheld && meta.seq > after;
    if (unavailable) {
      this.owner.send({ mt: 'resume_unavailable', chatId: this.chatId, generationId });
      return;
    }
    this.generations.set(generationId, { last: after, ended: false });
    for (const frame of frames) this.deliver(frame);
  }

  /** Starts tracking a generation this subscription has not seen, from its current attempt's start. */
  private async follow(generationId: string, meta: GenerationMeta | undefined): Promise<void> {
    if (!meta || meta.attempt === 0) return;
    this.generations.set(generationId, { last: meta.attemptStartSeq - 1, ended: false });
    await this.backfill(generationId, meta.attemptStartSeq - 1);
  }

  private onFrame(frame: GenerationFrame): void {
    if (this.closed) return;
    const tracked = this.generations.get(frame.generationId);
    const next = tracked === undefined ? frame.seq === 1 : frame.seq <= tracked.last + 1;
    // The common case stays synchronous: nothing queued, and the frame is the next one (or a duplicate).
    if (!this.busy && next) this.deliver(frame);
    else this.enqueue({ kind: 'frame', frame });
  }

  private enqueue(step: Step): void {
    if (this.closed) return;
    this.steps.push(step);
    if (!this.busy) void this.drain();
  }

  /** Runs queued steps one at a time; never rejects. */
  private async drain(): Promise<void> {
    this.busy = true;
    try {
      for (let step = this.steps.shift(); step !== undefined && !this.closed; step = this.steps.shift()) {
        if (step.kind === 'resync') await this.resync();
        else await this.accept(step.frame);
      }
    } catch (err) {
      // Stays busy: delivering later frames across the hole would break the order for good.
      this.steps.length = 0;
      if (!this.closed) this.owner.fail(err);
      return;
    }
    this.busy = false;
  }

  private async accept(frame: GenerationFrame): Promise<void> {
    let tracked = this.generations.get(frame.generationId);
    if (!tracked) {
      // A generation first seen mid-stream: the gap is relative to its current attempt's start.
      const generationId = frame.generationId;
      const meta =
        frame.seq === 1 ? undefined : await this.readWithRetry(generationId, () => this.deps.log.meta(this.chatId, generationId));
      tracked = { last: meta && meta.attempt > 0 ? meta.attemptStartSeq - 1 : 0, ended: false };
      this.generations.set(frame.generationId, tracked);
    }
    if (frame.seq > tracked.last + 1) await this.backfill(frame.generationId, tracked.last);
    if (frame.seq > tracked.last + 1) {
      this.owner.logger.warn('frames missing from the log; delivering past the gap', {
        chatId: this.chatId,
        generationId: frame.generationId,
        lastSeq: tracked.last,
        seq: frame.seq,
      });
    }
    this.deliver(frame);
  }

  /**
   * After the subscriber reconnected: whatever was published meanwhile is in the log, for the
   * generations this subscription follows and for the one that runs now (possibly new to it).
   */
  private async resync(): Promise<void> {
    for (const [generationId, tracked] of this.generations) {
      if (!tracked.ended) await this.backfill(generationId, tracked.last);
    }
    const running = await this.readWithRetry(undefined, () => this.deps.fifo.head(this.chatId));
    if (running !== undefined && !this.generations.has(running)) {
      await this.follow(running, await this.readWithRetry(running, () => this.deps.log.meta(this.chatId, running)));
    }
  }

  private async backfill(generationId: string, after: number): Promise<void> {
    const { frames } = await this.readWithRetry(generationId, () => this.deps.log.readForClients(this.chatId, generationId, after));
    for (const frame of frames) this.deliver(frame);
  }

  private async readWithRetry<T>(generationId: string | undefined, read: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await read();
      } catch (err) {
        const delay = RETRY_DELAYS_MS[attempt];
        const fields = { chatId: this.chatId, generationId, attempt: attempt + 1, err };
        if (this.closed) {
          this.owner.logger.warn('could not read the frame log; the connection closed meanwhile', fields);
          throw err;
        }
        if (delay === undefined) {
          this.owner.logger.error('could not read the frame log; giving up', fields);
          throw err;
        }
        this.owner.logger.warn('could not read the frame log; retrying', { ...fields, retryInMs: delay });
        await new Promise((resolve) => setTimeout(resolve, delay));
      }
    }
  }

  private deliver(frame: GenerationFrame): void {
    const ended = frame.mt === 'chat_message_bot_complete';
    const tracked = this.generations.get(frame.generationId);
    if (!tracked) this.generations.set(frame.generationId, { last: frame.seq, ended });
    else if (frame.seq <= tracked.last) return;
    else {
      tracked.last = frame.seq;
      tracked.ended ||= ended;
    }
    this.owner.send(frame);
  }
}
