/** Once a second during a run: what the HTML report draws over time. */
export interface Timeline {
  /** Seconds since the first sample. */
  t: number[];
  framesPerSecond: number[];
  tokensPerSecond: number[];
  /** Answers sent and not yet ended. */
  inFlight: number[];
  /** CPU % of each process over the last second (100 = one core). */
  cpuPercent: Record<string, number[]>;
}

export interface TimelineSources {
  /** Frames and characters received so far, and answers in flight now. */
  counts(): { frames: number; chars: number; inFlight: number };
  /** Each process's CPU-seconds so far. */
  cpu(): Promise<Map<string, number>>;
  charsPerToken: number;
}

/** A histogram with log-spaced bucket bounds in ms (1, 2, 5, 10, 20, 50, ...), for the report. */
export interface Histogram {
  /** Upper bound of each bucket. */
  upperMs: number[];
  counts: number[];
}

const INTERVAL_MS = 1_000;

export class TimelineRecorder {
  readonly timeline: Timeline = { t: [], framesPerSecond: [], tokensPerSecond: [], inFlight: [], cpuPercent: {} };
  private timer: NodeJS.Timeout | undefined;
  private last: { at: number; frames: number; chars: number; cpu: Map<string, number> } | undefined;
  private startedAt = 0;
  private sampling: Promise<void> = Promise.resolve();

  constructor(private readonly sources: TimelineSources) {}

  async start(): Promise<void> {
    this.startedAt = performance.now();
    const { frames, chars } = this.sources.counts();
    this.last = { at: this.startedAt, frames, chars, cpu: await this.sources.cpu() };
    this.timer = setInterval(() => {
      this.sampling = this.sampling.then(() => this.sample());
    }, INTERVAL_MS);
    this.timer.unref();
  }

  async stop(): Promise<Timeline> {
    clearInterval(this.timer);
    await this.sampling;
    return this.timeline;
  }

  private async sample(): Promise<void> {
    const last = this.last;
    if (!last) return;
    const at = performance.now();
    const { frames, chars, inFlight } = this.sources.counts();
    const cpu = await this.sources.cpu();
    const seconds = (at - last.at) / 1000;
    const { timeline } = this;
    timeline.t.push(Math.round((at - this.startedAt) / 100) / 10);
    timeline.framesPerSecond.push(Math.round((frames - last.frames) / seconds));
    timeline.tokensPerSecond.push(Math.round((chars - last.chars) / this.sources.charsPerToken / seconds));
    timeline.inFlight.push(inFlight);
    for (const [name, total] of cpu) {
      const before = last.cpu.get(name);
      const series = timeline.cpuPercent[name] ?? [];
      timeline.cpuPercent[name] = series;
      // A process that was not sampled last time (or is gone) gets a gap.
      series.push(before === undefined ? Number.NaN : Math.round(((total - before) / seconds) * 100));
    }
    this.last = { at, frames, chars, cpu };
  }
}

/** Counts of `values` in log-spaced buckets from 1 ms up to the largest value. */
export function histogram(values: readonly number[]): Histogram {
  const upperMs: number[] = [];
  // Not Math.max(...values): a long run has hundreds of thousands of frames, past the call stack's room for arguments.
  const max = values.reduce((largest, value) => Math.max(largest, value), 1);
  for (let decade = 1; upperMs.at(-1) === undefined || (upperMs.at(-1) ?? 0) < max; decade *= 10) {
    for (const step of [1, 2, 5]) upperMs.push(step * decade);
  }
  const counts = upperMs.map(() => 0);
  for (const value of values) {
    const index = upperMs.findIndex((upper) => value <= upper);
    counts[index < 0 ? counts.length - 1 : index] = (counts[index < 0 ? counts.length - 1 : index] ?? 0) + 1;
  }
  return { upperMs, counts };
}
