import type { BotCompleteFrame } from '@ragstream/protocol';
import { createLogger } from '@ragstream/runtime';
import { MetricsScrape, parsePrometheusText } from '@ragstream/testing';
import { describe, expect, it } from 'vitest';
import { ApiMetrics } from './api-metrics.ts';
import { BoundedMap } from './bounded-map.ts';

const ids = { chatId: 'c1', attempt: 1 };

function terminal(generationId: string, seq: number, status: BotCompleteFrame['status']): BotCompleteFrame {
  return { mt: 'chat_message_bot_complete', ...ids, generationId, seq, status, messageId: 'm', text: '', sources: [] };
}

async function scrape(metrics: ApiMetrics): Promise<MetricsScrape> {
  return new MetricsScrape(parsePrometheusText(await metrics.registry.metrics()));
}

describe('ApiMetrics', () => {
  it('times the first partial once per answer, counts each terminal once per node, and matches a stop to its stopped frame', async () => {
    const metrics = new ApiMetrics([], createLogger('test', 'error'));
    const a = metrics.openConnection('websocket', false);
    const b = metrics.openConnection('sse', true);
    metrics.answerRequested('g1', performance.now() - 100);
    a.live();
    b.live();
    for (const meter of [a, b]) {
      meter.sent({ mt: 'typing_indicator', ...ids, generationId: 'g1', seq: 1, replyTo: 'u' });
      meter.sent({ mt: 'chat_message_bot_partial', ...ids, generationId: 'g1', seq: 2, delta: 'x' });
    }
    metrics.stopRequested('c1', performance.now() - 20);
    a.sent(terminal('g1', 3, 'stopped'));
    b.sent(terminal('g1', 3, 'stopped'));
    a.sent({ mt: 'error', code: 'invalid_frame', message: 'no' });
    b.close();
    b.close();

    const s = await scrape(metrics);
    expect(s.value('ragstream_first_token_seconds_count')).toBe(1);
    expect(s.value('ragstream_first_token_seconds_sum')).toBeGreaterThanOrEqual(0.1);
    expect(s.value('ragstream_answers_total', { status: 'stopped' })).toBe(1);
    expect(s.value('ragstream_answers_total', { status: 'complete' })).toBe(0);
    expect(s.value('ragstream_stop_latency_seconds_count')).toBe(1);
    expect(s.value('ragstream_stop_latency_seconds_sum')).toBeGreaterThanOrEqual(0.02);
    expect(s.value('ragstream_frame_gap_seconds_count')).toBe(4);
    expect(s.value('ragstream_error_frames_total', { code: 'invalid_frame' })).toBe(1);
    expect(s.value('ragstream_connections_open', { transport: 'websocket' })).toBe(1);
    expect(s.value('ragstream_connections_open', { transport: 'sse' })).toBe(0);
    expect(s.value('ragstream_resumes_total', { transport: 'sse' })).toBe(1);
  });

  it('counts frames sent before the open completes as replayed, without gaps', async () => {
    const metrics = new ApiMetrics([], createLogger('test', 'error'));
    const meter = metrics.openConnection('socketio', true);
    meter.sent({ mt: 'typing_indicator', ...ids, generationId: 'g2', seq: 1, replyTo: 'u' });
    meter.sent({ mt: 'chat_message_bot_partial', ...ids, generationId: 'g2', seq: 2, delta: 'x' });
    meter.sent({ mt: 'resume_unavailable', chatId: 'c1', generationId: 'g0' });
    meter.live();
    meter.sent({ mt: 'chat_message_bot_partial', ...ids, generationId: 'g2', seq: 3, delta: 'y' });

    const s = await scrape(metrics);
    expect(s.value('ragstream_frames_replayed_total', { transport: 'socketio' })).toBe(2);
    expect(s.value('ragstream_frame_gap_seconds_count')).toBe(1);
  });
});

describe('BoundedMap', () => {
  it('forgets the oldest entry beyond its capacity; a re-set entry counts as the newest', () => {
    const map = new BoundedMap<string, number>(2);
    map.set('a', 1).set('b', 2).set('a', 3).set('c', 4);
    expect([...map.keys()]).toEqual(['a', 'c']);
    expect(map.take('a')).toBe(3);
    expect(map.has('a')).toBe(false);
  });
});
