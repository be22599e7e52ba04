import type { Logger } from '@ragstream/runtime';

/**
 * Answers survive disconnects so that clients can resume them; one whose chat has
 * had no client for `abandonAfterMs` is stopped (stored as stopped).
 */
export class AbandonWatch {
  private timer: NodeJS.Timeout | undefined;
  private emptySince: number | undefined;
  private fired = false;

  constructor(
    private readonly chatId: string,
    private readonly abandonAfterMs: number,
    private readonly countConnections: (chatId: string) => Promise<number>,
    /** Bound to the generation's ids. */
    private readonly logger: Logger,
    private readonly onAbandon: () => Promise<void>,
  ) {}

  start(): void {
    const interval = Math.min(5_000, Math.max(100, this.abandonAfterMs / 4));
    this.timer = setInterval(() => void this.check(), interval);
    this.timer.unref();
    void this.check();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  private async check(): Promise<void> {
    if (this.fired) return;
    let connections: number;
    try {
      connections = await this.countConnections(this.chatId);
    } catch (err) {
      // Counted again at the next tick; an answer is never abandoned on a failed count.
      this.logger.warn('could not count the chat’s connections', { err });
      return;
    }
    if (connections > 0) {
      this.emptySince = undefined;
      return;
    }
    const now = Date.now();
    this.emptySince ??= now;
    if (now - this.emptySince < this.abandonAfterMs || !this.timer) return;
    this.fired = true;
    this.stop();
    await this.onAbandon().catch((err: unknown) => this.logger.error('could not abandon the answer', { err }));
  }
}
