import type { UserFrame } from '@ragstream/protocol';
import { userFrameSchema } from '@ragstream/protocol';

type Waiter = { predicate: (frame: UserFrame) => boolean; resolve: (frame: UserFrame) => void };

/** User-level frames (chat list, answers started) a test client received, each validated, with event-driven waits. */
export class UserFrameCollector {
  readonly frames: UserFrame[] = [];
  private waiters: Waiter[] = [];

  constructor(private readonly label: string) {}

  add(input: unknown): void {
    const frame = userFrameSchema.parse(input);
    this.frames.push(frame);
    this.waiters = this.waiters.filter((waiter) => {
      if (!waiter.predicate(frame)) return true;
      waiter.resolve(frame);
      return false;
    });
  }

  /** The first frame of type `mt`, already received or still to come, that matches. */
  waitForMt<M extends UserFrame['mt']>(
    mt: M,
    extra: (frame: Extract<UserFrame, { mt: M }>) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<Extract<UserFrame, { mt: M }>> {
    const matches = (frame: UserFrame): frame is Extract<UserFrame, { mt: M }> =>
      frame.mt === mt && extra(frame as Extract<UserFrame, { mt: M }>);
    const seen = this.frames.find(matches);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        reject(new Error(`${this.label}: no ${mt} within ${timeoutMs} ms; got ${JSON.stringify(this.frames.slice(-5))}`));
      }, timeoutMs);
      const waiter: Waiter = {
        predicate: matches,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame as Extract<UserFrame, { mt: M }>);
        },
      };
      this.waiters.push(waiter);
    });
  }
}
