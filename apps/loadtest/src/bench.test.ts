import { describe, expect, it } from 'vitest';
import { QUICK_BENCH_OPTIONS } from './bench-config.ts';
import { formatBenchReport } from './bench-report.ts';
import type { Summary } from './percentiles.ts';
import { runBench } from './run-bench.ts';

function expectLatencies(summary: Summary, count: number): void {
  expect(summary.count).toBe(count);
  for (const key of ['min', 'mean', 'p50', 'p95', 'p99', 'max'] as const) expect(Number.isFinite(summary[key])).toBe(true);
  expect(summary.p50).toBeLessThanOrEqual(summary.p99);
}

describe('bench (quick mode, real cluster)', () => {
  it('measures all three phases with zero mismatches and protocol violations', { timeout: 120_000 }, async () => {
    const options = QUICK_BENCH_OPTIONS;
    const result = await runBench(options);
    // The printed report and the JSON line are built from this object.
    const report = formatBenchReport(result);
    const json = JSON.parse(JSON.stringify(result)) as typeof result;

    expect(json.kind).toBe('ragstream-bench');
    expect(json.config).toMatchObject({ quick: true, apis: 2, workers: 2, llmProvider: 'synthetic' });

    expectLatencies(json.ttft.queueMs, options.ttft.answers);
    expectLatencies(json.ttft.inProcessMs, options.ttft.answers);
    expectLatencies(json.ttft.overheadMs, options.ttft.answers);
    expectLatencies(json.ttft.confirmMs, options.ttft.answers);
    expect(json.ttft.inProcessMs.p50).toBeLessThan(json.ttft.queueMs.p50);
    expect(json.ttft).toMatchObject({ failures: 0, mismatches: 0, violations: 0 });

    expectLatencies(json.stop.latencyMs, options.stop.answers);
    expect(json.stop.byMethod.ws.count + json.stop.byMethod.http.count).toBe(options.stop.answers);
    expect(json.stop.byMethod.ws.count).toBeGreaterThan(0);
    expect(json.stop.byMethod.http.count).toBeGreaterThan(0);
    expect(json.stop.stoppedChars.min).toBeGreaterThan(0);
    expect(json.stop).toMatchObject({ mismatches: 0, notStopped: 0, failures: 0, violations: 0 });

    const t = json.throughput;
    expect(t.chats).toBe(options.throughput.chats);
    expect(t.answersCompleted).toBe(options.throughput.chats);
    expect(t.frames).toBeGreaterThan(options.throughput.chats * 3);
    expect(t.framesPerSecond).toBeGreaterThan(0);
    expect(t.tokensDeliveredPerSecond).toBeGreaterThan(0);
    expect(t).toMatchObject({ incomplete: 0, outOfOrder: 0, textMismatches: 0, storedMismatches: 0, failures: 0 });

    expect(json.totals).toEqual({ failures: 0, mismatches: 0, violations: 0, incomplete: 0 });
    expect(json.ok).toBe(true);
    expect(report).toContain('MISMATCHES 0');
    expect(report).toMatch(/^OK:/m);
  });
});
