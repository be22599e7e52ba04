import { createLogger } from '@ragstream/runtime';
import { MetricsScrape, parsePrometheusText } from '@ragstream/testing';
import { describe, expect, it } from 'vitest';
import { WorkerMetrics } from './worker-metrics.ts';

async function scrape(metrics: WorkerMetrics): Promise<MetricsScrape> {
  return new MetricsScrape(parsePrometheusText(await metrics.registry.metrics()));
}

describe('WorkerMetrics', () => {
  it('records model latency by model, operation and outcome, and tokens in and out only from usage reports', async () => {
    const metrics = new WorkerMetrics([], createLogger('test', 'error'));
    metrics.modelRequested({
      model: 'm1',
      operation: 'stream',
      seconds: 0.2,
      outcome: 'ok',
      usage: { promptTokens: 30, completionTokens: 12 },
    });
    metrics.modelRequested({
      model: 'm1',
      operation: 'complete',
      seconds: 0.1,
      outcome: 'ok',
      usage: { promptTokens: 5, completionTokens: 3 },
    });
    metrics.modelRequested({ model: 'm1', operation: 'stream', seconds: 0.05, outcome: 'aborted' });

    const s = await scrape(metrics);
    expect(s.value('ragstream_model_request_seconds_count', { model: 'm1' })).toBe(3);
    expect(s.value('ragstream_model_request_seconds_count', { model: 'm1', operation: 'stream', outcome: 'aborted' })).toBe(1);
    expect(s.value('ragstream_model_request_seconds_sum', { model: 'm1', operation: 'stream', outcome: 'ok' })).toBeCloseTo(0.2);
    expect(s.value('ragstream_model_tokens_total', { model: 'm1', direction: 'in' })).toBe(35);
    expect(s.value('ragstream_model_tokens_total', { model: 'm1', direction: 'out' })).toBe(15);
  });

  it('counts attempts, the queue wait of first attempts only, and retries among job outcomes', async () => {
    const metrics = new WorkerMetrics([], createLogger('test', 'error'));
    metrics.attemptStarted(1, Date.now() - 1500);
    metrics.attemptStarted(2, Date.now() - 60_000);
    metrics.generationJobEnded('retry', 0.5);
    metrics.generationJobEnded('complete', 2);

    const s = await scrape(metrics);
    expect(s.value('ragstream_generation_attempts_total')).toBe(2);
    expect(s.value('ragstream_queue_wait_seconds_count')).toBe(1);
    expect(s.value('ragstream_queue_wait_seconds_sum')).toBeGreaterThanOrEqual(1.5);
    expect(s.value('ragstream_queue_wait_seconds_sum')).toBeLessThan(60);
    expect(s.value('ragstream_generation_retries_total')).toBe(1);
    expect(s.value('ragstream_generation_job_seconds_count', { outcome: 'retry' })).toBe(1);
    expect(s.value('ragstream_generation_job_seconds_count', { outcome: 'complete' })).toBe(1);
  });

  it('reports the index cache as scraped: bytes and organisations held, and evictions', async () => {
    const metrics = new WorkerMetrics([], createLogger('test', 'error'));
    const cache = { bytes: 1000, organisations: 1 };
    metrics.watchIndexCache(cache);
    metrics.indexEvicted();
    expect((await scrape(metrics)).value('ragstream_index_cache_bytes')).toBe(1000);
    cache.bytes = 4096;
    cache.organisations = 3;
    metrics.indexEvicted();
    const s = await scrape(metrics);
    expect(s.value('ragstream_index_cache_bytes')).toBe(4096);
    expect(s.value('ragstream_index_cache_organisations')).toBe(3);
    expect(s.value('ragstream_index_cache_evictions_total')).toBe(2);
  });
});
