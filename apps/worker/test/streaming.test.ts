import type { ChatMessage, Page } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import { HttpClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKENS = 40;

describe('streamed answers across 2 API nodes and 2 workers', () => {
  let cluster: TestCluster;
  let a: HttpClient;
  let b: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 2,
      workers: 2,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '200' },
    });
    a = new HttpClient(cluster.api(0));
    b = new HttpClient(cluster.api(1));
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('streams the seed example answer in order and stores it', async () => {
    const chatId = await a.createChat();
    const client = await WsChatClient.connect(cluster.api(0), chatId);
    client.send({ mt: 'message_upload', message: 'Hello!', userId: '123', timezone: 'UTC', selectedLanguage: 'en' });
    const confirm = await client.collector.waitForMt('message_upload_confirm');
    const generationId = confirm.generationId ?? '';
    const done = await client.collector.waitForTerminal(generationId);

    expect(done.status).toBe('complete');
    expect(done.text).toBe(syntheticAnswer(TOKENS));
    const frames = client.collector.ofGeneration(generationId);
    expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
    expect(frames[0]?.mt).toBe('typing_indicator');
    expect(client.collector.textOf(generationId)).toBe(done.text);

    const messages = await b.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    expect(messages.body.items.map((m) => [m.role, m.text, m.status])).toEqual([
      ['user', 'Hello!', undefined],
      ['bot', syntheticAnswer(TOKENS), 'complete'],
    ]);
    expect(messages.body.items[1]?.id).toBe(done.messageId);
    expect(messages.body.items[1]?.generationId).toBe(generationId);
    await client.close();
  });
});
