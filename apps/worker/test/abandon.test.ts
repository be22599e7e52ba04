import type { BotCompleteFrame, ChatMessage, Page } from '@ragstream/protocol';
import { RedisKeys } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import { HttpClient, TEST_REDIS_URL, TestCluster, WsChatClient } from '@ragstream/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKENS = 400;

describe('answers survive disconnects and are abandoned only when nobody returns', () => {
  let cluster: TestCluster;
  let http: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 1,
      workers: 1,
      env: {
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: String(TOKENS),
        SYNTHETIC_TOKENS_PER_SECOND: '200',
        ABANDON_AFTER_SECONDS: '0.5',
      },
    });
    http = new HttpClient(cluster.api(0));
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('an answer whose chat has no client for ABANDON_AFTER_SECONDS is stored as stopped', async () => {
    const chatId = await http.createChat();
    const client = await WsChatClient.connect(cluster.api(0), chatId);
    client.send({ mt: 'message_upload', message: 'then I leave', userId: 'u1' });
    const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    await client.collector.waitFor((f) => f.mt === 'chat_message_bot_partial');
    // Watch the chat's frame channel directly: a Redis subscriber is not a client connection.
    const subscriber = new Redis(TEST_REDIS_URL);
    const terminal = new Promise<BotCompleteFrame>((resolve) => {
      subscriber.on('smessage', (_channel: string, message: string) => {
        const frame = JSON.parse(message) as BotCompleteFrame;
        if (frame.mt === 'chat_message_bot_complete') resolve(frame);
      });
    });
    await subscriber.ssubscribe(new RedisKeys(cluster.prefix).chatFrames(chatId));
    await client.close();
    const ended = await terminal;
    subscriber.disconnect();
    expect(ended.status).toBe('stopped');

    // Reconnecting later replays the generation to its terminal frame.
    const back = await WsChatClient.connect(cluster.api(0), chatId, { generationId, lastSeq: 0 });
    const done = await back.collector.waitForTerminal(generationId, 10_000);
    expect(done).toEqual(ended);
    expect(done.text.length).toBeLessThan(syntheticAnswer(TOKENS).length);
    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    const bot = body.items.find((m) => m.role === 'bot');
    expect(bot?.status).toBe('stopped');
    expect(bot?.text).toBe(done.text);
    await back.close();
  });

  it('an answer completes while a client stays connected', async () => {
    const chatId = await http.createChat();
    const client = await WsChatClient.connect(cluster.api(0), chatId);
    client.send({ mt: 'message_upload', message: 'I stay', userId: 'u1' });
    const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    const done = await client.collector.waitForTerminal(generationId, 10_000);
    expect(done.status).toBe('complete');
    expect(done.text).toBe(syntheticAnswer(TOKENS));
    await client.close();
  });
});
