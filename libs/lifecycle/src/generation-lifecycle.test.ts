import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { GenerateJobData, GenerationFrame } from '@ragstream/protocol';
import { GENERATE_QUEUE, RedisKeys } from '@ragstream/protocol';
import { FrameLog, GenerationStream } from '@ragstream/realtime';
import { createLogger } from '@ragstream/runtime';
import { SqliteChatStore } from '@ragstream/store';
import { deleteKeysWithPrefix, TEST_REDIS_URL } from '@ragstream/testing';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GenerationLifecycle } from './generation-lifecycle.ts';
import { GenerationQueue } from './generation-queue.ts';

describe('GenerationLifecycle on real Redis and SQLite', () => {
  const keys = new RedisKeys(`rstest-${randomUUID().slice(0, 8)}`);
  const dir = mkdtempSync(join(tmpdir(), 'ragstream-lifecycle-'));
  const logger = createLogger('lifecycle-test', 'error');
  let redis: Redis;
  let subscriber: Redis;
  let store: SqliteChatStore;
  let queue: GenerationQueue;
  let log: FrameLog;
  let lifecycle: GenerationLifecycle;

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    subscriber = new Redis(TEST_REDIS_URL);
    store = new SqliteChatStore({ filename: join(dir, 'test.sqlite') });
    await store.init();
    log = new FrameLog(redis, keys, 120);
    queue = new GenerationQueue(redis, keys, logger);
    lifecycle = new GenerationLifecycle({ redis, keys, log, store, queue, logger, ttlSeconds: 120 });
  });
  afterAll(async () => {
    await queue.close();
    redis.disconnect();
    subscriber.disconnect();
    await store.close();
    await deleteKeysWithPrefix(keys.prefix);
    rmSync(dir, { recursive: true, force: true });
  });

  async function newChat(): Promise<string> {
    return (await store.createChat({ userId: 'u1', title: 't' })).id;
  }

  async function message(chatId: string, text = 'question', caller = { userId: 'u1', organisationId: 'org' }): Promise<GenerateJobData> {
    const { value } = await store.createMessage({ chatId, role: 'user', text });
    return {
      chatId,
      organisationId: caller.organisationId,
      userId: caller.userId,
      userMessageId: value.id,
      generationId: `gen-${value.id}`,
      text,
      enqueuedAt: Date.now(),
    };
  }

  async function started(data: GenerateJobData): Promise<number> {
    const begin = await lifecycle.begin(data);
    if (begin.kind !== 'started') throw new Error(`expected a start, got ${begin.kind}`);
    return begin.attempt;
  }

  async function stream(data: GenerateJobData, attempt: number, ...deltas: string[]): Promise<GenerationStream> {
    const s = new GenerationStream(log, { chatId: data.chatId, generationId: data.generationId, attempt }, 1, () => undefined);
    for (const delta of deltas) s.push(delta);
    await s.drain();
    return s;
  }

  async function bots(chatId: string) {
    return (await store.listMessages(chatId, { limit: 100 })).items.filter((m) => m.role === 'bot');
  }

  it('stores the answer under the id of its terminal frame before clients hear of it, then hands the turn on', async () => {
    const chatId = await newChat();
    const data = await message(chatId);
    expect(await lifecycle.admit(data)).toEqual({ kind: 'admitted', position: 0 });
    const attempt = await started(data);
    const s = await stream(data, attempt, 'Hello ', 'world');

    const heard = new Promise<{ frame: GenerationFrame; storedThen: number }>((resolve) => {
      subscriber.on('smessage', (channel: string, raw: string) => {
        const frame = JSON.parse(raw) as GenerationFrame;
        if (channel !== keys.chatFrames(chatId) || frame.mt !== 'chat_message_bot_complete') return;
        void bots(chatId).then((stored) => resolve({ frame, storedThen: stored.length }));
      });
    });
    await subscriber.ssubscribe(keys.chatFrames(chatId));
    const outcome = await lifecycle.finish(
      { chatId, generationId: data.generationId, attempt },
      { status: 'complete', text: s.text, sources: [] },
      data.enqueuedAt,
    );
    expect(outcome.kind).toBe('finished');
    const { frame, storedThen } = await heard;
    expect(storedThen).toBe(1);
    const [bot] = await bots(chatId);
    expect(frame).toMatchObject({ status: 'complete', text: 'Hello world', messageId: bot?.id });
    expect(bot).toMatchObject({ text: 'Hello world', status: 'complete', generationId: data.generationId });
    // Announced with the publish: clients reading the log (a resume) get the terminal frame now.
    const { frames, withheld } = await log.readForClients(chatId, data.generationId, 0);
    expect(withheld).toBe(false);
    expect(frames.at(-1)).toEqual(frame);
    expect(await lifecycle.head(chatId)).toBeUndefined();
    await subscriber.sunsubscribe(keys.chatFrames(chatId));
  });

  it('answers one generation per chat at a time, in admission order', async () => {
    const chatId = await newChat();
    const first = await message(chatId, 'one');
    const second = await message(chatId, 'two');
    await lifecycle.admit(first);
    await lifecycle.admit(second);
    expect(await lifecycle.begin(second)).toEqual({ kind: 'wait', head: first.generationId });
    const attempt = await started(first);
    await lifecycle.finish(
      { chatId, generationId: first.generationId, attempt },
      { status: 'complete', text: '', sources: [] },
      first.enqueuedAt,
    );
    expect(await lifecycle.begin(second)).toMatchObject({ kind: 'started', attempt: 1 });
  });

  it('a superseded attempt can neither store, nor end the generation, nor hand the turn on', async () => {
    const chatId = await newChat();
    const data = await message(chatId);
    const next = await message(chatId, 'next');
    await lifecycle.admit(data);
    await lifecycle.admit(next);
    const zombie = await started(data);
    await stream(data, zombie, 'zombie text');
    const current = await started(data);
    expect(current).toBe(zombie + 1);

    const refused = await lifecycle.finish(
      { chatId, generationId: data.generationId, attempt: zombie },
      { status: 'complete', text: 'zombie text', sources: [] },
      data.enqueuedAt,
    );
    expect(refused).toEqual({ kind: 'superseded', reason: 'fenced' });
    expect(await bots(chatId)).toEqual([]);
    expect(await lifecycle.head(chatId)).toBe(data.generationId);
    expect(await lifecycle.begin(next)).toMatchObject({ kind: 'wait' });

    const s = await stream(data, current, 'real text');
    await lifecycle.finish(
      { chatId, generationId: data.generationId, attempt: current },
      { status: 'complete', text: s.text, sources: [] },
      data.enqueuedAt,
    );
    expect((await bots(chatId)).map((m) => m.text)).toEqual(['real text']);
    const late = await lifecycle.finish(
      { chatId, generationId: data.generationId, attempt: zombie },
      { status: 'complete', text: 'x', sources: [] },
      data.enqueuedAt,
    );
    expect(late.kind).toBe('superseded');
    expect(await bots(chatId)).toHaveLength(1);
  });

  it('stop ends the answer at once with what it streamed; the running attempt is refused at its next append and its finish', async () => {
    const chatId = await newChat();
    const data = await message(chatId);
    await lifecycle.admit(data);
    await lifecycle.dispatch(data);
    // Taken as a worker would (active, locked), without running a processor.
    const taker = new Worker(GENERATE_QUEUE, null, { connection: redis, prefix: keys.bullPrefix });
    expect((await taker.getNextJob('test-token'))?.id).toBe(data.generationId);
    const attempt = await started(data);
    const ends: string[] = [];
    const s = new GenerationStream(log, { chatId, generationId: data.generationId, attempt }, 1, (end) => ends.push(end.reason));
    // Text that must survive the script's JSON building byte for byte.
    const streamed = 'नमस्ते "quoted" a/b\\c\n\ttab 😀 ';
    for (const part of streamed.split(' ')) s.push(`${part} `);
    await s.drain();
    expect(s.text.trim()).toBe(streamed.trim());
    // No worker listens on the cancel channel here: only the state can stop it.
    expect(await lifecycle.stop(chatId)).toEqual([data.generationId]);
    const [terminal] = (await log.readAfter(chatId, data.generationId, 0)).filter((frame) => frame.mt === 'chat_message_bot_complete');
    const [stored] = await bots(chatId);
    expect(terminal).toMatchObject({ status: 'stopped', text: s.text, sources: [], attempt, messageId: stored?.id });
    expect(stored).toMatchObject({ text: s.text, status: 'stopped' });
    const after = new GenerationStream(log, { chatId, generationId: data.generationId, attempt }, 1, (end) => ends.push(end.reason));
    after.push('after stop');
    await after.drain();
    expect(ends).toEqual(['cancelled']);

    const outcome = await lifecycle.finish(
      { chatId, generationId: data.generationId, attempt },
      { status: 'complete', text: s.text, sources: [] },
      data.enqueuedAt,
    );
    expect(outcome).toEqual({ kind: 'finished', status: 'stopped', messageId: stored?.id });
    expect((await bots(chatId)).map((m) => [m.text, m.status])).toEqual([[s.text, 'stopped']]);
    expect(await lifecycle.stop(chatId)).toEqual([]);
    await taker.close();
  });

  it('stop lists only what it stopped: a finished answer is not listed; a waiting one is ended at once', async () => {
    const chatId = await newChat();
    const done = await message(chatId, 'done');
    await lifecycle.admit(done);
    const attempt = await started(done);
    await lifecycle.finish(
      { chatId, generationId: done.generationId, attempt },
      { status: 'complete', text: 'ok', sources: [] },
      done.enqueuedAt,
    );
    const waiting = await message(chatId, 'waiting');
    await lifecycle.admit(waiting);
    await lifecycle.dispatch(waiting);
    expect(await lifecycle.stop(chatId)).toEqual([waiting.generationId]);
    expect(await queue.state(waiting.generationId)).toBe('unknown');
    expect((await bots(chatId)).map((m) => m.status)).toEqual(['complete', 'stopped']);
    expect(await lifecycle.head(chatId)).toBeUndefined();
    expect(await lifecycle.begin(waiting)).toEqual({ kind: 'finished' });
  });

  it('stop takes the chat’s generations as expected, or as they are when the expectation is wrong', async () => {
    const monitor = await redis.duplicate().monitor();
    const cancels: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (args[0]?.toLowerCase() === 'evalsha' && args.some((a) => a === keys.cancelChannel)) cancels.push(args);
    });
    try {
      for (const expected of [(ids: string[]) => ids, () => [], () => ['not-a-generation']]) {
        const chatId = await newChat();
        const first = await message(chatId, 'first');
        const second = await message(chatId, 'second');
        for (const data of [first, second]) await lifecycle.admit(data);
        const ids = [first.generationId, second.generationId];
        expect((await lifecycle.stop(chatId, expected(ids))).sort()).toEqual([...ids].sort());
        // Right: one script; wrong: a second one, with the ids the first answered. Counted by this
        // chat's FIFO key, so that a monitor line of an earlier round arriving late does not count.
        const fifo = keys.chatFifo(chatId);
        await expect.poll(() => cancels.filter((args) => args.includes(fifo)).length).toBe(expected(ids).length === 2 ? 1 : 2);
        expect(await lifecycle.begin(first)).toEqual({ kind: 'finished' });
      }
    } finally {
      monitor.disconnect();
    }
  });

  it('a head admitted but not yet dispatched is re-added from its payload, not failed', async () => {
    const chatId = await newChat();
    const head = await message(chatId, 'first');
    const later = await message(chatId, 'second');
    await lifecycle.admit(head);
    await lifecycle.admit(later);
    const begin = await lifecycle.begin(later);
    expect(begin).toEqual({ kind: 'wait', head: head.generationId });
    expect(await lifecycle.checkHead(chatId, head.generationId)).toBe('alive');
    expect((await queue.getJob(head.generationId))?.data).toEqual(head);
    expect(await bots(chatId)).toEqual([]);
  });

  it('a head with neither a job nor a payload is ended as failed, so that the chat never blocks', async () => {
    const chatId = await newChat();
    const later = await message(chatId, 'second');
    await redis.rpush(keys.chatFifo(chatId), 'gen-lost');
    await lifecycle.admit(later);
    expect(await lifecycle.checkHead(chatId, 'gen-lost')).toBe('ended');
    expect(await lifecycle.begin(later)).toMatchObject({ kind: 'started' });
  });

  it('a generation finished by a process that died before storing is completed by whoever finds it, once', async () => {
    const chatId = await newChat();
    const data = await message(chatId);
    await lifecycle.admit(data);
    const attempt = await started(data);
    await stream(data, attempt, 'text');
    // The terminal frame only, as if the process died right after the finish script.
    await redis.eval(
      "redis.call('HSET', KEYS[1], 'done', '1'); local seq = redis.call('HINCRBY', KEYS[1], 'seq', 1); redis.call('RPUSH', KEYS[2], '{\"seq\":' .. seq .. ',' .. string.sub(ARGV[1], 2))",
      2,
      keys.generationMeta(data.chatId, data.generationId),
      keys.generationLog(data.chatId, data.generationId),
      JSON.stringify({
        mt: 'chat_message_bot_complete',
        chatId,
        generationId: data.generationId,
        attempt,
        status: 'complete',
        messageId: '0123456789abcdef01234567',
        text: 'text',
        sources: [],
      }),
    );
    expect(await bots(chatId)).toEqual([]);
    expect(await lifecycle.begin(data)).toEqual({ kind: 'finished' });
    await lifecycle.complete(chatId, data.generationId);
    await lifecycle.complete(chatId, data.generationId);
    expect((await bots(chatId)).map((m) => [m.id, m.text])).toEqual([['0123456789abcdef01234567', 'text']]);
  });

  it('every transition refreshes the TTL of both the meta hash and the log', async () => {
    const chatId = await newChat();
    const data = await message(chatId);
    await lifecycle.admit(data);
    const attempt = await started(data);
    await stream(data, attempt, 'a');
    const ttls = async (): Promise<number[]> => [
      await redis.ttl(keys.generationMeta(data.chatId, data.generationId)),
      await redis.ttl(keys.generationLog(data.chatId, data.generationId)),
    ];
    const shorten = async (): Promise<void> => {
      await redis.expire(keys.generationLog(data.chatId, data.generationId), 5);
      await redis.expire(keys.generationMeta(data.chatId, data.generationId), 5);
    };
    await shorten();
    await lifecycle.begin(data);
    expect(Math.min(...(await ttls()))).toBeGreaterThan(100);
    await shorten();
    await lifecycle.stop(chatId);
    expect(Math.min(...(await ttls()))).toBeGreaterThan(100);
  });

  describe('answers in progress', () => {
    const limits = { perUser: 2, perOrganisation: 3 };

    async function admitted(data: GenerateJobData): Promise<void> {
      expect(await lifecycle.admit(data, limits)).toMatchObject({ kind: 'admitted' });
    }

    async function finishRunning(data: GenerateJobData, status: 'complete' | 'failed' = 'complete'): Promise<void> {
      const attempt = await started(data);
      await lifecycle.finish({ chatId: data.chatId, generationId: data.generationId, attempt }, { status, text: '', sources: [] }, 0);
    }

    it('refuses a new answer past the user limit and writes nothing for it; a resend of an admitted one still passes', async () => {
      const caller = { userId: `u-${randomUUID()}`, organisationId: `o-${randomUUID()}` };
      const [a, b, c] = [await newChat(), await newChat(), await newChat()];
      const first = await message(a, 'one', caller);
      const second = await message(b, 'two', caller);
      const third = await message(c, 'three', caller);
      await admitted(first);
      await admitted(second);
      expect(await lifecycle.admit(third, limits)).toEqual({ kind: 'refused', scope: 'user', inProgress: 2, limit: 2 });
      expect(await redis.exists(keys.generationMeta(third.chatId, third.generationId))).toBe(0);
      expect(await lifecycle.head(c)).toBeUndefined();
      expect(await redis.zscore(keys.answersInProgress('user', caller.userId), third.generationId)).toBeNull();
      expect(await redis.zscore(keys.answersInProgress('organisation', caller.organisationId), third.generationId)).toBeNull();
      await admitted(second);
      expect(await lifecycle.inProgress(caller)).toEqual({ user: 2, organisation: 2 });
      expect(await lifecycle.inProgress({ userId: caller.userId })).toEqual({ user: 2, organisation: 0 });
      expect(await lifecycle.inProgress({ organisationId: caller.organisationId })).toEqual({ user: 0, organisation: 2 });
      expect(await lifecycle.inProgress({})).toEqual({ user: 0, organisation: 0 });
    });

    it('refuses past the organisation limit, whoever the user', async () => {
      const organisationId = `o-${randomUUID()}`;
      const answers = await Promise.all(
        [1, 2, 3, 4].map(async (i) => message(await newChat(), `q${i}`, { userId: `u-${randomUUID()}`, organisationId })),
      );
      for (const data of answers.slice(0, 3)) await admitted(data);
      expect(await lifecycle.admit(answers[3] as GenerateJobData, limits)).toMatchObject({
        kind: 'refused',
        scope: 'organisation',
        inProgress: 3,
        limit: 3,
      });
      expect(await lifecycle.admit(answers[3] as GenerateJobData)).toMatchObject({ kind: 'admitted' });
    });

    it('releases the slot on every ending: complete, failed, stopped while running, stopped while waiting, a takeover after a crash', async () => {
      const caller = { userId: `u-${randomUUID()}`, organisationId: `o-${randomUUID()}` };
      const count = async (): Promise<number> => (await lifecycle.inProgress(caller)).user;
      const endings: [string, (data: GenerateJobData) => Promise<void>][] = [
        ['complete', (data) => finishRunning(data)],
        ['failed', (data) => finishRunning(data, 'failed')],
        [
          'stopped while running',
          async (data) => {
            const attempt = await started(data);
            await lifecycle.stop(data.chatId);
            await lifecycle.finish(
              { chatId: data.chatId, generationId: data.generationId, attempt },
              { status: 'stopped', text: '', sources: [] },
              0,
            );
          },
        ],
        [
          'stopped while waiting',
          async (data) => {
            await lifecycle.dispatch(data);
            await lifecycle.stop(data.chatId);
          },
        ],
        [
          'a job that failed for good',
          async (data) => {
            await started(data);
            await lifecycle.endUnrun(data.chatId, data.generationId, 'failed', 'worker lost');
          },
        ],
        [
          'another worker takes over after a crash',
          async (data) => {
            await started(data);
            await finishRunning(data);
          },
        ],
      ];
      for (const [label, end] of endings) {
        const first = await message(await newChat(), label, caller);
        const second = await message(await newChat(), label, caller);
        await admitted(first);
        await admitted(second);
        expect(await lifecycle.admit(await message(await newChat(), label, caller), limits)).toMatchObject({ kind: 'refused' });
        await end(first);
        expect({ label, count: await count() }).toEqual({ label, count: 1 });
        const next = await message(await newChat(), label, caller);
        await admitted(next);
        await finishRunning(second);
        await finishRunning(next);
        expect({ label, count: await count() }).toEqual({ label, count: 0 });
      }
    });

    it('a lease that lapsed (its processes all died) no longer counts, and is pruned by the next admission', async () => {
      const caller = { userId: `u-${randomUUID()}`, organisationId: `o-${randomUUID()}` };
      const first = await message(await newChat(), 'one', caller);
      const second = await message(await newChat(), 'two', caller);
      await admitted(first);
      await admitted(second);
      // Lapsed: scored in the past, as it would be GENERATION_TTL_SECONDS after it was taken.
      for (const scope of ['user', 'organisation'] as const) {
        const set = keys.answersInProgress(scope, scope === 'user' ? caller.userId : caller.organisationId);
        await redis.zadd(set, 'XX', 1, first.generationId);
      }
      expect(await lifecycle.inProgress(caller)).toEqual({ user: 1, organisation: 1 });
      await admitted(await message(await newChat(), 'three', caller));
      expect(await redis.zscore(keys.answersInProgress('user', caller.userId), first.generationId)).toBeNull();
    });

    it('a lease lapses with the generation’s TTL', async () => {
      const caller = { userId: `u-${randomUUID()}`, organisationId: `o-${randomUUID()}` };
      const data = await message(await newChat(), 'one', caller);
      const before = Date.now();
      await admitted(data);
      const lapses = Number(await redis.zscore(keys.answersInProgress('user', caller.userId), data.generationId));
      // This lifecycle's TTL is 120 s; Redis's clock and this one's agree to well within a second here.
      expect(lapses - before).toBeGreaterThan(119_000);
      expect(lapses - before).toBeLessThan(121_000);
      expect(await redis.pttl(keys.answersInProgress('user', caller.userId))).toBeGreaterThan(119_000);
    });

    it('without limits the lease is taken all the same, so that the counts stay true', async () => {
      const caller = { userId: `u-${randomUUID()}`, organisationId: `o-${randomUUID()}` };
      const data = await message(await newChat(), 'one', caller);
      expect(await lifecycle.admit(data)).toMatchObject({ kind: 'admitted' });
      expect(await lifecycle.inProgress(caller)).toEqual({ user: 1, organisation: 1 });
      await finishRunning(data);
      expect(await lifecycle.inProgress(caller)).toEqual({ user: 0, organisation: 0 });
    });

    it('a finished generation admitted again (a late resend) takes no lease', async () => {
      const caller = { userId: `u-${randomUUID()}`, organisationId: `o-${randomUUID()}` };
      const data = await message(await newChat(), 'one', caller);
      await admitted(data);
      await finishRunning(data);
      expect(await lifecycle.admit(data, limits)).toEqual({ kind: 'finished' });
      expect(await lifecycle.inProgress(caller)).toEqual({ user: 0, organisation: 0 });
    });
  });
});
