import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TestCluster } from '@ragstream/testing';
import { launchBrowser } from '@ragstream/testing/browser';
import { afterEach, describe, expect, it } from 'vitest';
import { parseLoadArgs } from '../src/load-config.ts';
import { renderLoadHtml } from '../src/load-html.ts';
import { formatLoadReport } from '../src/load-report.ts';
import { runLoad } from '../src/run-load.ts';

let cluster: TestCluster | undefined;

afterEach((ctx) => {
  if (ctx.task.result?.state === 'fail') console.error(cluster?.logs());
  cluster = undefined;
});

describe('npm run loadtest with a transport mix and reconnects', () => {
  it('drives WebSocket, Socket.IO and SSE chats whose clients drop mid-answer and resume on the other node, with no gap or duplicate', async () => {
    const { options } = parseLoadArgs([
      '--local',
      '--chats',
      '12',
      '--messages-per-chat',
      '3',
      '--mix',
      'ws=1,socketio=1,sse=1',
      '--reconnect-ratio',
      '0.6',
      '--stop-ratio',
      '0.2',
      '--tokens',
      '40',
      '--tps',
      '40',
      '--duration',
      '60',
      '--baseline',
      '4',
    ]);
    const result = await runLoad(options, {
      onCluster: (started) => {
        cluster = started;
      },
    });
    expect(result.violations).toEqual({ count: 0, examples: [] });
    expect(result.errors).toEqual({ count: 0, examples: [] });
    expect(result.stored.mismatches).toBe(0);
    expect(result.answers).toMatchObject({ sent: 36, noTerminal: 0, failed: 0 });
    expect(result.ok).toBe(true);
    for (const transport of ['ws', 'socketio', 'sse'] as const) {
      expect(result.byTransport[transport]).toMatchObject({ chats: 4, answersEnded: 12 });
      expect(result.byTransport[transport]?.ttftMs.count).toBeGreaterThan(0);
    }
    // The in-process baseline answered beside them, each of its chats three times; the overhead is over it.
    expect(result.ttftBaselineMs?.count).toBe(12);
    expect(result.ttftBaselineMs?.p50).toBeLessThan(result.ttftMs.p50);
    expect(result.summary.ttft_overhead_ms?.p50).toBeCloseTo(result.ttftMs.p50 - (result.ttftBaselineMs?.p50 ?? 0), 1);
    expect(result.ttftOverhead?.p50Ratio).toBeGreaterThan(1);
    // Every frame's append time came with it: append -> receive is measured, on this machine's clock.
    expect(result.deliveryMs.count).toBeGreaterThan(result.answers.sent * 3);
    expect(result.deliveryMs.min).toBeGreaterThan(-2);
    // Each process's share, for the CPU-per-token ratios against the bare stack.
    expect(result.processes.map((p) => p.name).sort()).toEqual(['api-0', 'api-1', 'load', 'redis', 'worker-0', 'worker-1']);
    for (const p of result.processes) {
      expect(p.cpuSeconds).toBeGreaterThan(0);
      expect(p.peakRssMb).toBeGreaterThan(0);
    }
    expect(result.deliveredTokens).toBeGreaterThan(0);
    expect(result.deliveredTokens).toBeLessThanOrEqual(36 * 40);
    expect(result.cpuPerThousandTokens?.total).toBeGreaterThan(0);
    expect(result.summary).toMatchObject({ lost_frames: 0, duplicate_frames: 0, errors: 0, answers_completed: result.answers.completed });
    expect(Object.keys(result.summary.cpu_seconds).sort()).toEqual(['api-0', 'api-1', 'load', 'redis', 'worker-0', 'worker-1']);
    // Every Node process's event-loop delay over the run: the nodes' and workers' from their /metrics, the load generator's own.
    expect(Object.keys(result.summary.event_loop_lag_ms).sort()).toEqual(['api-0', 'api-1', 'load', 'worker-0', 'worker-1']);
    for (const lag of Object.values(result.summary.event_loop_lag_ms)) {
      expect(lag.p99).toBeGreaterThan(0);
      expect(lag.max).toBeGreaterThanOrEqual(lag.p99);
    }
    // The HTML report draws its five charts from this run, in a real browser, without errors.
    expect(result.timeline.t.length).toBeGreaterThanOrEqual(1);
    expect(Object.keys(result.timeline.cpuPercent).sort()).toEqual(['api-0', 'api-1', 'load', 'redis', 'worker-0', 'worker-1']);
    const file = join(mkdtempSync(join(tmpdir(), 'loadtest-html-')), 'report.html');
    writeFileSync(file, renderLoadHtml(result, formatLoadReport(result)));
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (err) => errors.push(String(err)));
      await page.goto(pathToFileURL(file).href);
      await page.waitForSelector('.uplot');
      expect(await page.locator('.uplot').count()).toBe(5);
      expect(await page.locator('.uplot .u-title').allTextContents()).toEqual([
        'Throughput',
        'Answers in flight',
        'CPU per process (100 = one core)',
        'Time to first token',
        'Frame delivery (appended in Redis -> received)',
      ]);
      expect(errors).toEqual([]);
    } finally {
      await browser.close();
    }
    // A resume that missed or repeated a frame would show above as a violation; here it is shown to have happened.
    expect(result.reconnects).toBeGreaterThan(5);
    expect(Object.values(result.byTransport).filter((t) => (t?.reconnects ?? 0) > 0)).toHaveLength(3);
  });
});
