/**
 * Sleeps, one sleep after another, under one abort signal: a sleep rejects with the abort
 * reason as soon as the signal aborts. One abort listener serves every sleep, where
 * node:timers/promises adds and removes one per sleep, a cost a responder pacing each
 * token would pay on every token.
 */
export class AbortableSleeper {
  private timer: NodeJS.Timeout | undefined;
  private interrupt: ((reason: unknown) => void) | undefined;
  private readonly onAbort = (): void => {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.interrupt?.(this.signal.reason);
    this.interrupt = undefined;
  };

  constructor(private readonly signal: AbortSignal) {
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** Resolves after `ms` (at once for 0 or less), or rejects with the abort reason as soon as the signal aborts. */
  sleep(ms: number): Promise<void> {
    if (this.signal.aborted) return Promise.reject(this.signal.reason);
    if (ms <= 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.interrupt = reject;
      this.timer = setTimeout(() => {
        this.timer = undefined;
        this.interrupt = undefined;
        resolve();
      }, ms);
    });
  }

  /** Ends a sleep in progress (it never settles) and stops listening to the signal. */
  dispose(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    this.interrupt = undefined;
    this.signal.removeEventListener('abort', this.onAbort);
  }
}
