import { randomUUID } from 'node:crypto';
import type { GenerationFrame } from '@ragstream/protocol';
import { RedisKeys } from '@ragstream/protocol';
import { TEST_REDIS_URL, deleteKeysWithPrefix } from '@ragstream/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FrameLog } from './frame-log.ts';
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

  /** Frames published on the chat's channel, until its terminal frame. */
  async function listen(chatId: string): Promise<{ ended: Promise<GenerationFrame[]> }> {
    const frames: GenerationFrame[] = [];
    const ended = new Promise<GenerationFrame[]>((resolve) => {
      subscriber.on('message', (channel: string, message: string) => {
        if (channel !== keys.chatFrames(chatId)) return;
        const frame = JSON.parse(message) as GenerationFrame;
        frames.push(frame);
        if (frame.mt === 'chat_message_bot_complete') resolve(frames);
      });
    });
    await subscriber.subscribe(keys.chatFrames(chatId));
    return { ended };
  }

  it('numbers frames from 1 across attempts, logs and publishes them identically', async () => {
    const chatId = randomUUID();
    const generationId = `gen-${randomUUID()}`;
    const live = await listen(chatId);
    const first = await log.startAttempt(generationId, chatId);
    expect(first).toMatchObject({ kind: 'started', attempt: 1, seq: 0 });
    const a = new GenerationStream(log, { chatId, generationId, attempt: 1 }, 5, () => undefined);
    a.typing('m1');
    a.push('Hel');
    a.push('lo');
    await a.drain();

    const second = await log.startAttempt(generationId, chatId);
    expect(second).toMatchObject({ kind: 'started', attempt: 2 });
    const b = new GenerationStream(log, { chatId, generationId, attempt: 2 }, 5, () => undefined);
    b.typing('m1');
    b.push('Hi');
    expect(await b.finish('complete', 'msg-1', [])).toBe(true);

    const logged = await log.readAfter(generationId, 0);
    expect(logged.map((f) => f.seq)).toEqual(logged.map((_, i) => i + 1));
    expect(logged.at(-1)).toMatchObject({ mt: 'chat_message_bot_complete', attempt: 2, text: 'Hi', sources: [] });
    const meta = await log.meta(generationId);
    expect(meta).toMatchObject({ attempt: 2, done: true, seq: logged.length });
    expect(await log.readAfter(generationId, meta?.attemptStartSeq ? meta.attemptStartSeq - 1 : 0)).toEqual(logged.slice(-3));
    expect(await log.streamedText(generationId)).toBe('Hi');
    expect(await live.ended).toEqual(logged);
  });

  it('fences a superseded attempt: its frames are refused and it is told to stop', async () => {
    const chatId = randomUUID();
    const generationId = `gen-${randomUUID()}`;
    await log.startAttempt(generationId, chatId);
    const reasons: string[] = [];
    const stale = new GenerationStream(log, { chatId, generationId, attempt: 1 }, 5, (reason) => reasons.push(reason));
    stale.push('old ');
    await stale.drain();
    await log.startAttempt(generationId, chatId);
    stale.push('zombie text');
    await stale.drain();
    expect(reasons).toEqual(['fenced']);
    expect(await stale.finish('complete', 'x', [])).toBe(false);
    const frames = await log.readAfter(generationId, 0);
    expect(frames.map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : f.mt))).toEqual(['old ']);
  });

  it('refuses every frame after the terminal one', async () => {
    const chatId = randomUUID();
    const generationId = `gen-${randomUUID()}`;
    await log.startAttempt(generationId, chatId);
    const stream = new GenerationStream(log, { chatId, generationId, attempt: 1 }, 5, () => undefined);
    stream.push('done');
    expect(await stream.finish('stopped', 'm', [])).toBe(true);
    expect(await log.append(chatId, generationId, '*', [{ mt: 'typing_indicator', chatId, generationId, attempt: 1, replyTo: 'x' }], false)).toEqual({
      ok: false,
      reason: 'done',
    });
    expect(await log.startAttempt(generationId, chatId)).toEqual({ kind: 'done' });
  });

  it('flushes the first delta at once and coalesces the rest within the window', async () => {
    const chatId = randomUUID();
    const generationId = `gen-${randomUUID()}`;
    await log.startAttempt(generationId, chatId);
    const stream = new GenerationStream(log, { chatId, generationId, attempt: 1 }, 50, () => undefined);
    stream.push('first ');
    for (let i = 0; i < 100; i += 1) stream.push(`t${i} `);
    await stream.drain();
    const partials = (await log.readAfter(generationId, 0)).filter((f) => f.mt === 'chat_message_bot_partial');
    expect(partials).toHaveLength(2);
    expect(partials[0]).toMatchObject({ delta: 'first ' });
    expect(stream.text).toBe(`first ${Array.from({ length: 100 }, (_, i) => `t${i} `).join('')}`);
  });

  it('a cancelled generation does not start', async () => {
    const chatId = randomUUID();
    const generationId = `gen-${randomUUID()}`;
    // As ChatStopper's script does before it tells the workers.
    await redis.hset(keys.generationMeta(generationId), 'cancel', '1');
    expect(await log.startAttempt(generationId, chatId)).toMatchObject({ kind: 'cancelled' });
  });
});
