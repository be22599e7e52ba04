import type { ServerFrame } from '@ragstream/protocol';
import { serverFrameSchema } from '@ragstream/protocol';

type Waiter = { predicate: (frame: ServerFrame) => boolean; resolve: (frame: ServerFrame) => void };

/** Frames a test client received, each validated against the protocol, with event-driven waits. */
export class FrameCollector {
  readonly frames: ServerFrame[] = [];
  /** performance.now() at each frame's arrival, index for index with `frames`. */
  readonly receivedAt: number[] = [];
  private waiters: Waiter[] = [];

  constructor(private readonly label: string) {}

  add(input: unknown): void {
    const frame = serverFrameSchema.parse(input);
    this.frames.push(frame);
    this.receivedAt.push(performance.now());
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.predicate(frame)) return true;
      waiter.resolve(frame);
      return false;
    });
  }

  /** The first frame, already received or still to come, that matches. */
  waitFor<F extends ServerFrame = ServerFrame>(predicate: (frame: ServerFrame) => boolean, timeoutMs = 30_000): Promise<F> {
    const seen = this.frames.find(predicate);
    if (seen) return Promise.resolve(seen as F);
    return new Promise<F>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.label}: no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const waiter: Waiter = {
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame as F);
        },
      };
      this.waiters.push(waiter);
    });
  }

  waitForMt<M extends ServerFrame['mt']>(
    mt: M,
    extra: (frame: Extract<ServerFrame, { mt: M }>) => boolean = () => true,
    timeoutMs?: number,
  ): Promise<Extract<ServerFrame, { mt: M }>> {
    return this.waitFor((f) => f.mt === mt && extra(f as Extract<ServerFrame, { mt: M }>), timeoutMs);
  }

  waitForTerminal(generationId: string, timeoutMs?: number): Promise<Extract<ServerFrame, { mt: 'chat_message_bot_complete' }>> {
    return this.waitForMt('chat_message_bot_complete', (f) => f.generationId === generationId, timeoutMs);
  }

  ofGeneration(generationId: string): Extract<ServerFrame, { generationId: string; seq: number }>[] {
    return this.frames.filter(
      (f): f is Extract<ServerFrame, { generationId: string; seq: number }> => 'seq' in f && f.generationId === generationId,
    );
  }

  /** The answer text as a client shows it: deltas of the latest attempt only. */
  textOf(generationId: string): string {
    let attempt = 0;
    let text = '';
    for (const frame of this.ofGeneration(generationId)) {
      if (frame.attempt > attempt) {
        attempt = frame.attempt;
        text = '';
      }
      if (frame.mt === 'chat_message_bot_partial') text += frame.delta;
    }
    return text;
  }
}
