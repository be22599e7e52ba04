/** What a probe clock ticks: a stream that asks Redis whether it may go on when it has been idle. */
export interface Probed {
  checkIdle(): void;
}

/**
 * One timer for every stream of a process that probes at the same period, instead of one
 * each: a worker streams hundreds of answers, and a timer per answer firing ten times a
 * second cost more than the checks it runs. The probes of one tick also leave together
 * (see CoalescedWrites). It runs only while it has streams.
 */
export class ProbeClock {
  private static readonly shared = new Map<number, ProbeClock>();
  private readonly streams = new Set<Probed>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly periodMs: number) {}

  /** The process's clock for `periodMs`. */
  static every(periodMs: number): ProbeClock {
    let clock = ProbeClock.shared.get(periodMs);
    if (!clock) {
      clock = new ProbeClock(periodMs);
      ProbeClock.shared.set(periodMs, clock);
    }
    return clock;
  }

  add(stream: Probed): void {
    this.streams.add(stream);
    if (this.timer) return;
    this.timer = setInterval(() => {
      for (const each of this.streams) each.checkIdle();
    }, this.periodMs);
    this.timer.unref();
  }

  delete(stream: Probed): void {
    this.streams.delete(stream);
    if (this.streams.size > 0 || !this.timer) return;
    clearInterval(this.timer);
    this.timer = undefined;
  }
}
