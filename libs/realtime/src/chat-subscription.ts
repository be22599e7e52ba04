import type { GenerationFrame, ResumeParams } from '@ragstream/protocol';
import type { FrameHub } from './frame-hub.ts';
import type { FrameLog } from './frame-log.ts';

/** Which generation a chat runs now (the head of its answer order). */
export interface ChatTurn {
  head(chatId: string): Promise<string | undefined>;
}

export interface SubscriptionDeps {
  hub: FrameHub;
  log: FrameLog;
  fifo: ChatTurn;
}

/**
 * One client connection's view of a chat's generations: replay from the log, then
 * live frames, each generation's frames delivered once and in seq order.
 */
export class ChatSubscription {
  private readonly lastSeq = new Map<string, number>();
  private buffered: GenerationFrame[] | undefined = [];
  private readonly listener = (frame: GenerationFrame): void => {
    if (this.buffered) this.buffered.push(frame);
    else this.deliver(frame);
  };

  private constructor(
    private readonly deps: SubscriptionDeps,
    private readonly chatId: string,
    private readonly send: (frame: GenerationFrame) => void,
  ) {}

  /**
   * Subscribes first and reads the log second, so that nothing published in between
   * is lost; frames seen twice are dropped by seq.
   * With `resume.generationId`, replays that generation after `lastSeq` (0 = from the start);
   * in any case replays the chat's running answer from its current attempt's start.
   */
  static async open(
    deps: SubscriptionDeps,
    chatId: string,
    resume: ResumeParams,
    send: (frame: GenerationFrame) => void,
  ): Promise<ChatSubscription> {
    const subscription = new ChatSubscription(deps, chatId, send);
    await deps.hub.join(chatId, subscription.listener);
    try {
      await subscription.replay(resume);
    } catch (err) {
      await subscription.close();
      throw err;
    }
    return subscription;
  }

  async close(): Promise<void> {
    this.buffered = undefined;
    await this.deps.hub.leave(this.chatId, this.listener);
  }

  private async replay(resume: ResumeParams): Promise<void> {
    const resumed = resume.generationId;
    if (resumed !== undefined) {
      const after = resume.lastSeq ?? 0;
      this.lastSeq.set(resumed, after);
      for (const frame of await this.deps.log.readAfter(resumed, after)) this.deliver(frame);
    }
    const running = await this.deps.fifo.head(this.chatId);
    if (running !== undefined && running !== resumed) {
      const meta = await this.deps.log.meta(running);
      if (meta && meta.attempt > 0) {
        for (const frame of await this.deps.log.readAfter(running, meta.attemptStartSeq - 1)) this.deliver(frame);
      }
    }
    const pending = this.buffered ?? [];
    this.buffered = undefined;
    for (const frame of pending) this.deliver(frame);
  }

  private deliver(frame: GenerationFrame): void {
    if (frame.seq <= (this.lastSeq.get(frame.generationId) ?? 0)) return;
    this.lastSeq.set(frame.generationId, frame.seq);
    this.send(frame);
  }
}
