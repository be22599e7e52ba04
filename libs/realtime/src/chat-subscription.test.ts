import { randomUUID } from 'node:crypto';
import type { GenerationFrame, ResumeParams } from '@ragstream/protocol';
import { RedisKeys } from '@ragstream/protocol';
import { deleteKeysWithPrefix, TEST_REDIS_URL } from '@ragstream/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SubscriptionDeps, SubscriptionFrame, SubscriptionOwner } from './chat-subscription.ts';
import { ChatSubscription } from './chat-subscription.ts';
import { FrameHub } from './frame-hub.ts';
import { FrameLog } from './frame-log.ts';

/** What a subscription sent, with waits that resolve on the frame that satisfies them. */
class Recorder implements SubscriptionOwner {
  readonly frames: SubscriptionFrame[] = [];
  readonly failures: unknown[] = [];
  readonly logs: { level: string; message: string; fields: Record<string, unknown> }[] = [];
  private waiters: { done: () => boolean; resolve: () => void }[] = [];
  readonly logger = {
    warn: (message: string, fields: Record<string, unknown>) => this.log('warn', message, fields),
    error: (message: string, fields: Record<string, unknown>) => this.log('error', message, fields),
  };

  send(frame: SubscriptionFrame): void {
    this.frames.push(frame);
    this.settle();
  }

  fail(error: unknown): void {
    this.failures.push(error);
    this.settle();
  }

  seqs(generationId: string): number[] {
    return this.frames.flatMap((f) => (f.mt !== 'resume_unavailable' && f.generationId === generationId ? [f.seq] : []));
  }

  until(done: () => boolean, timeoutMs = 5_000): Promise<void> {
    if (done()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out; got ${JSON.stringify(this.frames.slice(-5))}`)), timeoutMs);
      this.waiters.push({
        done,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  private log(level: string, message: string, fields: Record<string, unknown>): void {
    this.logs.push({ level, message, fields });
  }

  private settle(): void {
    const ready = this.waiters.filter((w) => w.done());
    this.waiters = this.waiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) waiter.resolve();
  }
}

function frame(chatId: string, generationId: string, seq: number, last: number, attempt = 1): GenerationFrame {
  const fields = { chatId, generationId, attempt, seq };
  if (seq === last) return { mt: 'chat_message_bot_complete', ...fields, status: 'complete', messageId: 'm1', text: 'x', sources: [] };
  if (seq === 1) return { mt: 'typing_indicator', ...fields, replyTo: 'u1' };
  return { mt: 'chat_message_bot_partial', ...fields, delta: `t${seq} ` };
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

describe('ChatSubscription on real Redis', () => {
  const keys = new RedisKeys(`rstest-${randomUUID().slice(0, 8)}`);
  const subscriberName = `${keys.prefix}-frames`;
  const hubLogs: string[] = [];
  let redis: Redis;
  let subscriber: Redis;
  let log: FrameLog;
  let hub: FrameHub;
  const open: ChatSubscription[] = [];

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    subscriber = new Redis(TEST_REDIS_URL, { connectionName: subscriberName, maxRetriesPerRequest: null });
    log = new FrameLog(redis, keys, 60);
    hub = new FrameHub(subscriber, keys, {
      warn: (message) => hubLogs.push(message),
      error: (message) => hubLogs.push(message),
    });
    await subscriber.ping();
  });
  afterEach(async () => {
    await Promise.all(open.splice(0).map((s) => s.close()));
  });
  afterAll(async () => {
    redis.disconnect();
    subscriber.disconnect();
    await deleteKeysWithPrefix(keys.prefix);
  });

  async function subscribe(
    chatId: string,
    options: { resume?: ResumeParams; head?: string; deps?: Partial<SubscriptionDeps> } = {},
  ): Promise<Recorder> {
    const recorder = new Recorder();
    const deps: SubscriptionDeps = { hub, log, fifo: { head: () => Promise.resolve(options.head) }, ...options.deps };
    open.push(await ChatSubscription.open(deps, chatId, options.resume ?? {}, recorder));
    return recorder;
  }

  /**
   * Writes frames to the log as the worker's script does, publishing only those `live` accepts;
   * a terminal frame is announced as the lifecycle does once its answer is stored (the mark is
   * set whether or not the publish reaches the subscriber).
   */
  async function write(frames: GenerationFrame[], live: (seq: number) => boolean): Promise<void> {
    for (const f of frames) {
      const text = JSON.stringify(f);
      const meta = keys.generationMeta(f.chatId, f.generationId);
      const multi = redis
        .multi()
        .rpush(keys.generationLog(f.chatId, f.generationId), text)
        .hset(meta, 'chatId', f.chatId, 'attempt', f.attempt, 'seq', f.seq);
      if (f.mt === 'chat_message_bot_complete') multi.hset(meta, 'announced', '1');
      if (live(f.seq)) multi.spublish(keys.chatFrames(f.chatId), text);
      await multi.exec();
    }
  }

  it('fills holes in the live stream from the log: every frame once, in order', async () => {
    const chatId = randomUUID();
    const generationId = `gen-${randomUUID()}`;
    await redis.hset(keys.generationMeta(chatId, generationId), 'attemptStartSeq', 1);
    const client = await subscribe(chatId);
    const N = 40;
    const lost = new Set([4, 5, 6, 11, 20, 21, 33, 38, 39]);
    await write(
      range(1, N).map((seq) => frame(chatId, generationId, seq, N)),
      (seq) => !lost.has(seq),
    );
    await client.until(() => client.seqs(generationId).at(-1) === N);
    expect(client.seqs(generationId)).toEqual(range(1, N));
    expect(client.failures).toEqual([]);
  });

  it('treats the first frame of an unseen generation with seq > 1 as a gap from its current attempt start', async () => {
    const chatId = randomUUID();
    const generationId = `gen-${randomUUID()}`;
    const client = await subscribe(chatId);
    // Attempt 1 wrote 1..4 and died; attempt 2 starts at 5.
    await write(
      range(1, 4).map((seq) => frame(chatId, generationId, seq, 99, 1)),
      () => false,
    );
    await redis.hset(keys.generationMeta(chatId, generationId), 'attemptStartSeq', 5);
    await write(
      range(5, 10).map((seq) => frame(chatId, generationId, seq, 10, 2)),
      (seq) => seq >= 8,
    );
    await client.until(() => client.seqs(generationId).at(-1) === 10);
    expect(client.seqs(generationId)).toEqual(range(5, 10));
  });

  it('re-reads the log after the subscriber reconnects, for followed and newly running generations', async () => {
    const chatId = randomUUID();
    const followed = `gen-${randomUUID()}`;
    const started = `gen-${randomUUID()}`;
    await redis.hset(keys.generationMeta(chatId, followed), 'attemptStartSeq', 1);
    const client = await subscribe(chatId, { deps: { fifo: { head: () => Promise.resolve(started) } } });
    await write(
      range(1, 3).map((seq) => frame(chatId, followed, seq, 6)),
      () => true,
    );
    await client.until(() => client.seqs(followed).length === 3);

    const reconnected = new Promise<void>((resolve) => subscriber.once('ready', () => resolve()));
    await killConnection(redis, subscriberName);
    expect(await redis.pubsub('SHARDNUMSUB', keys.chatFrames(chatId))).toEqual([keys.chatFrames(chatId), 0]);
    // Published while the node had no subscriber: lost on pub/sub, only in the log.
    await write(
      range(4, 6).map((seq) => frame(chatId, followed, seq, 6)),
      () => true,
    );
    await redis.hset(keys.generationMeta(chatId, started), 'attemptStartSeq', 1);
    await write(
      range(1, 2).map((seq) => frame(chatId, started, seq, 9)),
      () => true,
    );
    await reconnected;

    await client.until(() => client.seqs(followed).length === 6 && client.seqs(started).length === 2);
    expect(client.seqs(followed)).toEqual(range(1, 6));
    expect(client.seqs(started)).toEqual([1, 2]);
    // Live delivery goes on after the resync.
    await write([frame(chatId, started, 3, 9)], () => true);
    await client.until(() => client.seqs(started).length === 3);
    expect(client.seqs(started)).toEqual([1, 2, 3]);
  });

  it('answers a resume of an unknown or expired generation with resume_unavailable and stays live', async () => {
    const chatId = randomUUID();
    const expired = `gen-${randomUUID()}`;
    await redis.hset(keys.generationMeta(chatId, expired), 'chatId', chatId, 'attempt', 1, 'seq', 7);
    const unknown = await subscribe(chatId, { resume: { generationId: 'gen-unknown', lastSeq: 3 } });
    const gone = await subscribe(chatId, { resume: { generationId: expired, lastSeq: 2 } });
    expect(unknown.frames).toEqual([{ mt: 'resume_unavailable', chatId, generationId: 'gen-unknown' }]);
    expect(gone.frames).toEqual([{ mt: 'resume_unavailable', chatId, generationId: expired }]);

    const live = `gen-${randomUUID()}`;
    await write(
      range(1, 2).map((seq) => frame(chatId, live, seq, 2)),
      () => true,
    );
    await Promise.all([unknown.until(() => unknown.seqs(live).length === 2), gone.until(() => gone.seqs(live).length === 2)]);

    // A resume the log can serve gets the rest, no resume_unavailable.
    const served = await subscribe(chatId, { resume: { generationId: live, lastSeq: 1 } });
    expect(served.frames.map((f) => f.mt)).toEqual(['chat_message_bot_complete']);
    // Nor does the queued head generation that has not started yet.
    const queued = await subscribe(chatId, { resume: { generationId: 'gen-queued', lastSeq: 0 }, head: 'gen-queued' });
    expect(queued.frames).toEqual([]);
  });

  it('resumes without the terminal frame while its answer is not stored yet, and delivers it live when announced', async () => {
    const chatId = randomUUID();
    const generationId = `gen-${randomUUID()}`;
    const meta = keys.generationMeta(chatId, generationId);
    await redis.hset(meta, 'attemptStartSeq', 1);
    // Logged by the finish, not announced yet: what the log holds while the answer is stored.
    await write(
      range(1, 3).map((seq) => frame(chatId, generationId, seq, 9)),
      () => false,
    );
    const terminal = frame(chatId, generationId, 4, 4);
    await redis.rpush(keys.generationLog(chatId, generationId), JSON.stringify(terminal));
    await redis.hset(meta, 'seq', 4);

    const client = await subscribe(chatId, { resume: { generationId, lastSeq: 1 }, head: generationId });
    await client.until(() => client.seqs(generationId).at(-1) === 3);
    expect(client.frames.filter((f) => f.mt === 'resume_unavailable')).toEqual([]);
    expect(client.seqs(generationId)).toEqual([2, 3]);

    await redis.multi().hset(meta, 'announced', '1').spublish(keys.chatFrames(chatId), JSON.stringify(terminal)).exec();
    await client.until(() => client.seqs(generationId).at(-1) === 4);
    expect(client.seqs(generationId)).toEqual([2, 3, 4]);
  });

  it('retries a failing backfill, logs it with ids, and tells the owner when it gives up', async () => {
    const chatId = randomUUID();
    const generationId = `gen-${randomUUID()}`;
    const failing: SubscriptionDeps['log'] = {
      meta: (chatId, id) => log.meta(chatId, id),
      readForClients: () => Promise.reject(new Error('log unreadable')),
    };
    const client = await subscribe(chatId, { deps: { log: failing } });
    await write(
      [1, 2, 3].map((seq) => frame(chatId, generationId, seq, 9)),
      (seq) => seq !== 2,
    );
    await client.until(() => client.failures.length === 1, 10_000);
    expect(client.seqs(generationId)).toEqual([1]);
    expect(client.logs.filter((l) => l.level === 'warn').length).toBeGreaterThan(0);
    expect(client.logs.at(-1)).toMatchObject({ level: 'error', fields: { chatId, generationId } });
  });
});

/** Kills this test's own connection by its name, as Redis sees a network drop. */
async function killConnection(redis: Redis, name: string): Promise<void> {
  const list = (await redis.client('LIST')) as string;
  const ids = list
    .split('\n')
    .filter((line) => line.includes(` name=${name} `))
    .map((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1])
    .filter((id): id is string => id !== undefined);
  expect(ids.length).toBe(1);
  for (const id of ids) await redis.client('KILL', 'ID', id);
}
