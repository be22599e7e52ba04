import type { GenerationFrame } from '@ragstream/protocol';
import { describe, expect, it } from 'vitest';
import { AnswerTracker } from './answer-tracker.ts';
import { parseLoadArgs, parseMix, transportFor } from './load-config.ts';
import { isLoopbackHost, loopbackBaseUrl } from './loopback.ts';
import { percentile, summarize } from './percentiles.ts';

const id = { chatId: 'c', generationId: 'g', attempt: 1 };
const typing = (seq: number, attempt = 1): GenerationFrame => ({ mt: 'typing_indicator', ...id, attempt, seq, replyTo: 'm' });
const partial = (seq: number, delta: string, attempt = 1): GenerationFrame => ({
  mt: 'chat_message_bot_partial',
  ...id,
  attempt,
  seq,
  delta,
});
const complete = (seq: number, text: string): GenerationFrame => ({
  mt: 'chat_message_bot_complete',
  ...id,
  seq,
  status: 'complete',
  messageId: 'b',
  text,
  sources: [],
});

function feed(frames: GenerationFrame[]): AnswerTracker {
  const tracker = new AnswerTracker('g');
  for (const [i, frame] of frames.entries()) tracker.add(frame, i);
  return tracker;
}

describe('percentiles', () => {
  it('uses the nearest rank', () => {
    const sorted = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([1, 2, 3], 50)).toBe(2);
    expect(percentile([], 50)).toBeNaN();
    expect(summarize([3, 1, 2])).toMatchObject({ count: 3, min: 1, p50: 2, p99: 3, max: 3, mean: 2 });
  });
});

describe('answer tracker', () => {
  it('accepts a well-formed answer and its retried attempt', () => {
    const tracker = feed([typing(1), partial(2, 'a'), typing(3, 2), partial(4, 'b', 2), { ...complete(5, 'b'), attempt: 2 }]);
    expect(tracker.violations).toEqual([]);
    expect(tracker.text).toBe('b');
    expect(tracker.terminal?.status).toBe('complete');
  });

  it('reports gaps, duplicates, frames after the terminal and a terminal text that differs', () => {
    expect(feed([typing(1), partial(3, 'a')]).violations).toEqual(['g: seq gap: 3 after 1']);
    expect(feed([typing(1), partial(2, 'a'), partial(2, 'a')]).violations).toEqual(['g: seq 2 again or out of order after 2']);
    expect(feed([typing(1), complete(2, ''), partial(3, 'a')]).violations).toEqual([
      'g: chat_message_bot_partial seq 3 after the terminal frame',
    ]);
    expect(feed([typing(1), partial(2, 'ab'), complete(3, 'a')]).violations).toHaveLength(1);
  });
});

describe('loopback guard', () => {
  it('allows this machine only', () => {
    for (const host of ['localhost', '127.0.0.1', '127.1.2.3', '[::1]', '::1']) expect(isLoopbackHost(host)).toBe(true);
    for (const host of ['10.0.0.5', '192.168.1.1', 'example.com', '::', '0.0.0.0', '128.0.0.1']) expect(isLoopbackHost(host)).toBe(false);
    expect(loopbackBaseUrl('http://127.0.0.1:8000/')).toBe('http://127.0.0.1:8000');
    expect(() => loopbackBaseUrl('http://example.com:8000')).toThrow(/refusing to load-test example.com/);
    expect(() => loopbackBaseUrl('ws://127.0.0.1:8000')).toThrow(/http/);
  });
});

describe('transport mix', () => {
  it('deals chats to transports in proportion to their weights, interleaved', () => {
    const mix = parseMix('ws=2,socketio=1,sse=1');
    expect(mix).toEqual([
      { transport: 'ws', weight: 2 },
      { transport: 'socketio', weight: 1 },
      { transport: 'sse', weight: 1 },
    ]);
    expect(Array.from({ length: 8 }, (_, i) => transportFor(i, mix))).toEqual([
      'ws',
      'ws',
      'socketio',
      'sse',
      'ws',
      'ws',
      'socketio',
      'sse',
    ]);
    expect(Array.from({ length: 3 }, (_, i) => transportFor(i, parseMix('ws=0,sse=1')))).toEqual(['sse', 'sse', 'sse']);
  });

  it('refuses a malformed mix, and --mix with --transport, naming the flag', () => {
    for (const bad of ['ws', 'ws=x', 'tcp=1', 'ws=1,ws=2', 'ws=0', '']) expect(() => parseMix(bad)).toThrow(/--mix/);
    expect(() => parseLoadArgs(['--local', '--transport', 'ws', '--mix', 'ws=1'])).toThrow(/--transport or --mix/);
    expect(() => parseLoadArgs(['--local', '--transport', 'tcp'])).toThrow(/--transport must be one of ws, socketio, sse/);
    expect(parseLoadArgs(['--local', '--transport', 'sse']).options.mix).toEqual([{ transport: 'sse', weight: 1 }]);
    expect(() => parseLoadArgs(['--local', '--reconnect-ratio', '2'])).toThrow(/reconnect-ratio/);
  });

  it('runs a local cluster on a Redis Cluster of its own with --redis-cluster, only with --local', () => {
    expect(parseLoadArgs(['--local']).options.local?.redisCluster).toBe(false);
    expect(parseLoadArgs(['--local', '--redis-cluster']).options.local?.redisCluster).toBe(true);
    expect(() => parseLoadArgs(['--url', 'http://127.0.0.1:8000', '--redis-cluster'])).toThrow(/--redis-cluster only apply with --local/);
  });
});
