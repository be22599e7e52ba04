import type { Chat, ChatMessage, Page } from '@ragstream/protocol';
import { GENERATE_QUEUE, RedisKeys } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import type { RedisClient } from '@ragstream/realtime';
import { createRedis } from '@ragstream/realtime';
import { redisTarget } from '@ragstream/runtime';
import {
  HttpClient,
  RedisClusterServers,
  resumeAcrossNodes,
  SioChatClient,
  TestCluster,
  untilPasses,
  WsChatClient,
} from '@ragstream/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKENS = 300;

describe('on a three-master Redis Cluster', () => {
  let servers: RedisClusterServers;
  let cluster: TestCluster;
  let http: HttpClient;
  let redis: RedisClient;

  beforeAll(async () => {
    servers = await RedisClusterServers.start(3);
    cluster = await TestCluster.start({
      apis: 2,
      workers: 2,
      redisUrl: servers.url,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '100' },
    });
    http = new HttpClient(cluster.api(0));
    redis = createRedis(redisTarget({ REDIS_URL: servers.url }), { name: 'cluster-test', retryForever: true });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(`${cluster?.logs()}\n${servers?.logs()}`);
  });
  afterAll(async () => {
    redis?.disconnect();
    await cluster?.stop();
    await servers?.stop();
  });

  async function storedBots(chatId: string): Promise<ChatMessage[]> {
    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    return body.items.filter((m) => m.role === 'bot');
  }

  /** The port of the master that serves a chat's keys and frame channel. */
  async function masterOf(chatId: string): Promise<number> {
    const slot = Number(await redis.cluster('KEYSLOT', new RedisKeys(cluster.prefix).chatFrames(chatId)));
    const ranges = await redis.cluster('SLOTS');
    const master = ranges.find(([from, to]) => slot >= from && slot <= to)?.[2];
    if (!master) throw new Error(`no master serves slot ${slot}`);
    return master[1];
  }

  it('streams answers of chats on different masters to clients on both API nodes; the stored text is the streamed text', async () => {
    // Chats until two live on different masters: frames must come from more than one shard.
    const chats = [await http.createChat()];
    const firstMaster = await masterOf(chats[0] ?? '');
    for (let i = 0; i < 30 && chats.length < 2; i += 1) {
      const chatId = await http.createChat();
      if ((await masterOf(chatId)) !== firstMaster) chats.push(chatId);
    }
    expect(chats).toHaveLength(2);

    await Promise.all(
      chats.map(async (chatId) => {
        const asker = await WsChatClient.connect(cluster.api(0), chatId);
        const watcher = await WsChatClient.connect(cluster.api(1), chatId);
        asker.send({ mt: 'message_upload', message: 'hello cluster', userId: 'u1' });
        const generationId = (await asker.collector.waitForMt('message_upload_confirm')).generationId ?? '';
        const [done, seen] = await Promise.all([
          asker.collector.waitForTerminal(generationId),
          watcher.collector.waitForTerminal(generationId),
        ]);
        expect(done.status).toBe('complete');
        expect(done.text).toBe(syntheticAnswer(TOKENS));
        expect(seen).toEqual(done);
        for (const client of [asker, watcher]) {
          expect(client.collector.textOf(generationId)).toBe(done.text);
          const seqs = client.collector.ofGeneration(generationId).map((f) => f.seq);
          expect(seqs).toEqual(seqs.map((_, i) => i + 1));
        }
        const bots = await storedBots(chatId);
        expect(bots.map((m) => [m.text, m.status])).toEqual([[done.text, 'complete']]);
        await Promise.all([asker.close(), watcher.close()]);
      }),
    );
  });

  it('stops an answer through the other API node; the stored text is exactly what was streamed', async () => {
    const chatId = await http.createChat();
    const viewer = await WsChatClient.connect(cluster.api(0), chatId);
    viewer.send({ mt: 'message_upload', message: 'stop me', userId: 'u1' });
    const generationId = (await viewer.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    await viewer.collector.waitFor((f) => f.mt === 'chat_message_bot_partial' && f.seq >= 4);

    const stopped = await new HttpClient(cluster.api(1)).post(`/chat/${chatId}/stop`);
    expect(stopped.status).toBe(200);
    const done = await viewer.collector.waitForTerminal(generationId, 5_000);
    expect(done.status).toBe('stopped');
    expect(done.text.length).toBeGreaterThan(0);
    expect(done.text.length).toBeLessThan(syntheticAnswer(TOKENS).length);
    expect(viewer.collector.textOf(generationId)).toBe(done.text);
    const [stored] = await storedBots(chatId);
    expect(stored).toMatchObject({ id: done.messageId, status: 'stopped', text: done.text });
    await viewer.close();
  });

  it('resumes on the other API node after lastSeq, no gap and no duplicate', async () => {
    const chatId = await http.createChat();
    const { generationId, seen, resumed, done } = await resumeAcrossNodes(cluster, chatId, 'resume me');
    const lastSeq = seen.at(-1)?.seq ?? 0;
    expect(resumed[0]?.seq).toBe(lastSeq + 1);
    const seqs = [...seen, ...resumed].map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    const text = (frames: typeof seen): string => frames.map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : '')).join('');
    expect(text([...seen, ...resumed])).toBe(done.text);
    expect(done.generationId).toBe(generationId);
    const [stored] = await storedBots(chatId);
    expect(stored?.text).toBe(syntheticAnswer(TOKENS));
  });

  it('a shard subscriber killed mid-answer: the API node subscribes again and its client gets every frame once', async () => {
    const chatId = await http.createChat();
    const client = await WsChatClient.connect(cluster.api(0), chatId);
    client.send({ mt: 'message_upload', message: 'lose my subscriber', userId: 'u1' });
    const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    await client.collector.waitFor((f) => f.mt === 'chat_message_bot_partial' && f.seq >= 5);

    // The API node's sharded subscriber on the chat's master (ioredis names it after the connection).
    const master = new Redis(await masterOf(chatId), '127.0.0.1');
    try {
      const id = await untilPasses(async () => {
        const line = String(await master.client('LIST'))
          .split('\n')
          .find((entry) => entry.includes('ssubscriber') && entry.includes('-frames') && / ssub=[1-9]/.test(entry));
        const found = line === undefined ? undefined : /(?:^|\s)id=(\d+)/.exec(line)?.[1];
        if (found === undefined) throw new Error('no sharded frame subscriber on the chat’s master');
        return found;
      });
      await master.client('KILL', 'ID', id);
    } finally {
      master.disconnect();
    }

    const done = await client.collector.waitForTerminal(generationId, 30_000);
    expect(done).toMatchObject({ status: 'complete', text: syntheticAnswer(TOKENS) });
    const seqs = client.collector.ofGeneration(generationId).map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));
    expect(client.collector.textOf(generationId)).toBe(done.text);
    await client.close();
  });

  it('a user’s Socket.IO room spans both API nodes through the Redis adapter', async () => {
    const tabs = await Promise.all([0, 1].map((node) => SioChatClient.connect(cluster.api(node), { userId: 'u-rooms' })));
    const created = await http.post<Chat>('/chat/', { userId: 'u-rooms', title: 'on the cluster' });
    expect(created.status).toBe(201);
    for (const tab of tabs) expect((await tab.userFrames.waitForMt('chat_created')).chat).toEqual(created.body);
    for (const tab of tabs) tab.close();
  });

  it('a worker SIGKILLed mid-answer: another completes it exactly once, and the stored text is the streamed text', async () => {
    const chatId = await http.createChat();
    const client = await WsChatClient.connect(cluster.api(1), chatId);
    client.send({ mt: 'message_upload', message: 'survive a crash', userId: 'u1' });
    const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    await client.collector.waitFor((f) => f.mt === 'chat_message_bot_partial' && f.seq >= 5);

    const queue = new Queue(GENERATE_QUEUE, { connection: redis, prefix: new RedisKeys(cluster.prefix).bullPrefix });
    const runner = (await queue.getJob(generationId))?.processedBy;
    await queue.close();
    const doomed = cluster.workers.find((w) => runner?.endsWith(`-${w.pid}`));
    if (!doomed) throw new Error(`no worker process matches ${runner}`);
    await doomed.kill();

    const done = await client.collector.waitForTerminal(generationId, 30_000);
    expect(done).toMatchObject({ status: 'complete', attempt: 2, text: syntheticAnswer(TOKENS) });
    expect(client.collector.textOf(generationId)).toBe(done.text);
    const terminals = client.collector.ofGeneration(generationId).filter((f) => f.mt === 'chat_message_bot_complete');
    expect(terminals).toHaveLength(1);
    const bots = await storedBots(chatId);
    expect(bots.map((m) => [m.id, m.text, m.status])).toEqual([[done.messageId, done.text, 'complete']]);
    await client.close();
  });
});
