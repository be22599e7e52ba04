import { describe, expect, it } from 'vitest';
import { bareCosts } from './bare-stack.ts';

describe('bareCosts', () => {
  it('turns run.js CPU percentages into CPU-seconds per 1,000 tokens by kind of process', () => {
    const run = bareCosts(
      {
        chats: 500,
        rate: 20,
        seconds: 20,
        frames: 100_000,
        gaps: 0,
        lat_p50: 2,
        lat_p99: 48,
        cpuPct: { api1: 27, api2: 26, worker1: 18, worker2: 18, load: 33 },
        rssMb: {},
      },
      3.4,
    );
    // 200,000 tokens; servers 0.53 × 20 s = 10.6 CPU-s.
    expect(run.tokens).toBe(200_000);
    expect(run.cpuPerThousandTokens).toEqual({ api: 0.053, worker: 0.036, redis: 0.017, load: 0.033, total: 0.106 });
  });
});
