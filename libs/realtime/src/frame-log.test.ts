import { randomUUID } from 'node:crypto';
import type { GenerationFrame, UnsequencedFrame } from '@ragstream/protocol';
import { RedisKeys } from '@ragstream/protocol';
import { deleteKeysWithPrefix, TEST_REDIS_URL } from '@ragstream/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameLog } from './frame-log.ts';
import type { StreamEnd } from './generation-stream.ts';
import { GenerationStream } from './generation-stream.ts';

describe('FrameLog and GenerationStream on real Redis', () => {
  const keys = new RedisKeys(`rstest-${randomUUID().slice(0, 8)}`);
  let redis: Redis;
  let subscriber: Redis;
  let log: FrameLog;

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
    subscriber = new Redis(TEST_REDIS_URL);
    log = new FrameLog(redis, keys, 60);
  });
  afterAll(async () => {
    redis.disconnect();
    subscriber.disconnect();
    await deleteKeysWithPrefix(keys.prefix);
  });

  /** What the lifecycle's begin script does for the log: the attempt that may append. */
  async function runAttempt(chatId: string, generationId: string, attempt: number): Promise<void> {
    const seq = Number((await redis.hget(keys.generationMeta(chatId, generationId), 'seq')) ?? 0);
    await redis.hset(keys.generationMeta(chatId, generationId), 'attempt', attempt, 'attemptStartSeq', seq + 1);
  }

  function ids(): { chatId: string; generationId: string } {
    return { chatId: randomUUID(), generationId: `gen-${randomUUID()}` };
  }

  it('numbers frames from 1 across attempts, logs and publishes them identically', async () => {
    const { chatId, generationId } = ids();
    const published: GenerationFrame[] = [];
    subscriber.on('smessage', (channel: string, message: string) => {
      if (channel === keys.chatFrames(chatId)) published.push(JSON.parse(message) as GenerationFrame);
    });
    await subscriber.ssubscribe(keys.chatFrames(chatId));
    await runAttempt(chatId, generationId, 1);
    const a = new GenerationStream(log, { chatId, generationId, attempt: 1 }, 5, () => undefined);
    a.typing('m1');
    a.push('Hel');
    a.push('lo');
    expect(await a.drain()).toBeUndefined();
    expect(a.text).toBe('Hello');

    await runAttempt(chatId, generationId, 2);
    const b = new GenerationStream(log, { chatId, generationId, attempt: 2 }, 5, () => undefined);
    b.typing('m1');
    b.push('Hi');
    await b.drain();

    const logged = await log.readAfter(chatId, generationId, 0);
    expect(logged.map((f) => f.seq)).toEqual(logged.map((_, i) => i + 1));
    // 'Hel' and 'lo' were made while the typing frame's append was in flight: they went next, as one partial.
    expect(logged.map((f) => [f.attempt, f.mt === 'chat_message_bot_partial' ? f.delta : f.mt])).toEqual([
      [1, 'typing_indicator'],
      [1, 'Hello'],
      [2, 'typing_indicator'],
      [2, 'Hi'],
    ]);
    expect(await log.streamedText(chatId, generationId)).toBe('Hi');
    await expect.poll(() => published.length).toBe(logged.length);
    expect(published).toEqual(logged);
  });

  it('numbers several frames of one append in order, and keeps the meta and the log expiring together', async () => {
    const { chatId, generationId } = ids();
    const meta = keys.generationMeta(chatId, generationId);
    const logKey = keys.generationLog(chatId, generationId);
    await runAttempt(chatId, generationId, 1);
    const id = { chatId, generationId, attempt: 1 };
    const frames = [
      { mt: 'typing_indicator' as const, ...id, replyTo: 'm1' },
      { mt: 'chat_message_bot_partial' as const, ...id, delta: 'a' },
      { mt: 'chat_message_bot_partial' as const, ...id, delta: 'b' },
    ];
    expect(await log.append(chatId, generationId, 1, frames)).toEqual({ ok: true, lastSeq: 3 });
    expect((await log.readAfter(chatId, generationId, 0)).map((f) => [f.seq, f.mt])).toEqual([
      [1, 'typing_indicator'],
      [2, 'chat_message_bot_partial'],
      [3, 'chat_message_bot_partial'],
    ]);
    const ttls = async (): Promise<number[]> => [await redis.ttl(meta), await redis.ttl(logKey)];
    // The log got its TTL with its first frame, and the meta with it.
    expect(Math.min(...(await ttls()))).toBeGreaterThan(50);
    // With more than half of the TTL (60 s) left, an append leaves both as they are...
    await redis.expire(meta, 40);
    await redis.expire(logKey, 40);
    await log.append(chatId, generationId, 1, [frames[1] as UnsequencedFrame]);
    expect(Math.max(...(await ttls()))).toBeLessThanOrEqual(40);
    // ...and with less, it refreshes both.
    await redis.expire(meta, 20);
    await redis.expire(logKey, 20);
    await log.append(chatId, generationId, 1, []);
    expect(Math.min(...(await ttls()))).toBeGreaterThan(50);
  });

  it('gives clients a logged terminal frame only once its end is announced', async () => {
    const { chatId, generationId } = ids();
    await runAttempt(chatId, generationId, 1);
    const id = { chatId, generationId, attempt: 1 };
    await log.append(chatId, generationId, 1, [{ mt: 'chat_message_bot_partial', ...id, delta: 'a' }]);
    const terminal = { mt: 'chat_message_bot_complete', ...id, seq: 2, status: 'complete', messageId: 'm1', text: 'a', sources: [] };
    await redis.rpush(keys.generationLog(chatId, generationId), JSON.stringify(terminal));
    const before = await log.readForClients(chatId, generationId, 0);
    expect(before.frames.map((f) => f.seq)).toEqual([1]);
    expect(before.withheld).toBe(true);
    await redis.hset(keys.generationMeta(chatId, generationId), 'announced', '1');
    const after = await log.readForClients(chatId, generationId, 0);
    expect(after.frames.map((f) => f.mt)).toEqual(['chat_message_bot_partial', 'chat_message_bot_complete']);
    expect(after.withheld).toBe(false);
    expect(await log.readForClients(chatId, generationId, 2)).toEqual({ frames: [], withheld: false });
  });

  it('stamps each frame with the time Redis appended it when asked (FRAME_APPEND_TIMESTAMPS), and only then', async () => {
    const { chatId, generationId } = ids();
    await runAttempt(chatId, generationId, 1);
    const stamped = new FrameLog(redis, keys, 60, { stampAppendTime: true });
    const before = Date.now();
    expect(
      await stamped.append(chatId, generationId, 1, [{ mt: 'typing_indicator', chatId, generationId, attempt: 1, replyTo: 'm' }]),
    ).toEqual({
      ok: true,
      lastSeq: 1,
    });
    const after = Date.now();
    await log.append(chatId, generationId, 1, [{ mt: 'chat_message_bot_partial', chatId, generationId, attempt: 1, delta: 'x' }]);
    const [first, second] = await log.readAfter(chatId, generationId, 0);
    // Redis's clock and this process's are the machine's; a millisecond of rounding either way.
    expect(first?.appendedAt).toBeGreaterThanOrEqual(before - 1);
    expect(first?.appendedAt).toBeLessThanOrEqual(after + 1);
    expect(first).toMatchObject({ seq: 1, mt: 'typing_indicator' });
    expect(second).toMatchObject({ seq: 2, delta: 'x' });
    expect(second).not.toHaveProperty('appendedAt');
  });

  it('fences a superseded attempt: its frames are refused, it is told once, and its text keeps only what was accepted', async () => {
    const { chatId, generationId } = ids();
    await runAttempt(chatId, generationId, 1);
    const ends: StreamEnd[] = [];
    const stale = new GenerationStream(log, { chatId, generationId, attempt: 1 }, 5, (end) => ends.push(end));
    stale.push('old ');
    await stale.drain();
    await runAttempt(chatId, generationId, 2);
    stale.push('zombie text');
    stale.push(' more');
    expect(await stale.drain()).toEqual({ reason: 'fenced' });
    expect(ends).toEqual([{ reason: 'fenced' }]);
    expect(stale.text).toBe('old ');
    const frames = await log.readAfter(chatId, generationId, 0);
    expect(frames.map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : f.mt))).toEqual(['old ']);
  });

  it('refuses every frame once the generation is done', async () => {
    const { chatId, generationId } = ids();
    await runAttempt(chatId, generationId, 1);
    await redis.hset(keys.generationMeta(chatId, generationId), 'done', '1');
    expect(await log.append(chatId, generationId, 1, [{ mt: 'typing_indicator', chatId, generationId, attempt: 1, replyTo: 'x' }])).toEqual(
      {
        ok: false,
        reason: 'done',
      },
    );
    expect(await log.readAfter(chatId, generationId, 0)).toEqual([]);
  });

  it('a stop request ends the stream at its next append, with no pub/sub message at all', async () => {
    const { chatId, generationId } = ids();
    await runAttempt(chatId, generationId, 1);
    const ends: StreamEnd[] = [];
    const stream = new GenerationStream(log, { chatId, generationId, attempt: 1 }, 5, (end) => ends.push(end));
    stream.push('kept ');
    await new Promise<void>((resolve) => setTimeout(resolve, 0));
    await redis.hset(keys.generationMeta(chatId, generationId), 'cancel', '1');
    stream.push('refused');
    expect(await stream.drain()).toEqual({ reason: 'cancelled' });
    expect(ends).toEqual([{ reason: 'cancelled' }]);
    expect(stream.text).toBe('kept ');
    expect(await log.streamedText(chatId, generationId)).toBe('kept ');
  });

  it('sees a stop while no text flows (retrieval), by probing', async () => {
    const { chatId, generationId } = ids();
    await runAttempt(chatId, generationId, 1);
    const ended = new Promise<StreamEnd>((resolve) => {
      const stream = new GenerationStream(log, { chatId, generationId, attempt: 1 }, 5, resolve);
      stream.typing('m1');
    });
    await redis.hset(keys.generationMeta(chatId, generationId), 'cancel', '1');
    expect(await ended).toEqual({ reason: 'cancelled' });
  });

  it('ends at once when Redis fails under it', async () => {
    const { chatId, generationId } = ids();
    await runAttempt(chatId, generationId, 1);
    const broken = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: 0, enableOfflineQueue: false, lazyConnect: true });
    const brokenLog = new FrameLog(broken, keys, 60);
    const ended = new Promise<StreamEnd>((resolve) => {
      const stream = new GenerationStream(brokenLog, { chatId, generationId, attempt: 1 }, 5, resolve);
      stream.push('lost');
    });
    const end = await ended;
    expect(end.reason).toBe('failed');
    broken.disconnect();
  });

  it('drops text not yet sent when told to, and keeps what Redis accepted', async () => {
    const { chatId, generationId } = ids();
    await runAttempt(chatId, generationId, 1);
    const stream = new GenerationStream(log, { chatId, generationId, attempt: 1 }, 1_000, () => undefined);
    stream.push('sent ');
    stream.push('held back');
    stream.discardPending();
    expect(await stream.drain()).toBeUndefined();
    expect(stream.text).toBe('sent ');
    expect(await log.streamedText(chatId, generationId)).toBe('sent ');
  });

  it('flushes the first delta at once and coalesces the rest within the window', async () => {
    const { chatId, generationId } = ids();
    await runAttempt(chatId, generationId, 1);
    const stream = new GenerationStream(log, { chatId, generationId, attempt: 1 }, 50, () => undefined);
    stream.push('first ');
    for (let i = 0; i < 100; i += 1) stream.push(`t${i} `);
    await stream.drain();
    const partials = (await log.readAfter(chatId, generationId, 0)).filter((f) => f.mt === 'chat_message_bot_partial');
    expect(partials).toHaveLength(2);
    expect(partials[0]).toMatchObject({ delta: 'first ' });
    expect(stream.text).toBe(`first ${Array.from({ length: 100 }, (_, i) => `t${i} `).join('')}`);
  });
});
