import type { ChatMessage, Page } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import { HttpClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKENS = 30;

describe('one answer at a time per chat, in order, and resends', () => {
  let cluster: TestCluster;
  let http: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 1,
      workers: 2,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '150' },
    });
    http = new HttpClient(cluster.api(0));
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('the same clientMessageId sent twice is confirmed twice but stored and answered once', async () => {
    const chatId = await http.createChat();
    const client = await WsChatClient.connect(cluster.api(0), chatId);
    const frame = { mt: 'message_upload', message: 'only once', userId: 'u1', clientMessageId: 'c-1' };
    client.send(frame);
    client.send(frame);
    const confirms = await client.collector.waitFor(() => client.frames.filter((f) => f.mt === 'message_upload_confirm').length === 2);
    expect(confirms.mt).toBe('message_upload_confirm');
    const [c1, c2] = client.frames.filter((f) => f.mt === 'message_upload_confirm');
    expect(c1?.messageId).toBe(c2?.messageId);
    expect(c1?.clientMessageId).toBe('c-1');
    expect(c2?.duplicate).toBe(true);
    const generationId = c1?.generationId ?? '';
    await client.collector.waitForTerminal(generationId);
    // A resend after the answer ended is confirmed again, and still not answered again.
    client.send(frame);
    await client.collector.waitFor(() => client.frames.filter((f) => f.mt === 'message_upload_confirm').length === 3);

    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    expect(body.items.map((m) => [m.role, m.text])).toEqual([
      ['user', 'only once'],
      ['bot', syntheticAnswer(TOKENS)],
    ]);
    expect(client.frames.filter((f) => f.mt === 'typing_indicator')).toHaveLength(1);
    await client.close();
  });

  it('messages sent while an answer streams are stored at once and answered after it, in order', async () => {
    const chatId = await http.createChat();
    const client = await WsChatClient.connect(cluster.api(0), chatId);
    const texts = ['one', 'two', 'three', 'four'];
    for (const text of texts) client.send({ mt: 'message_upload', message: text, userId: 'u1', clientMessageId: text });
    const confirms = await Promise.all(
      texts.map((t) => client.collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === t)),
    );
    const generations = confirms.map((c) => c.generationId ?? '');
    const terminals = await Promise.all(generations.map((g) => client.collector.waitForTerminal(g)));
    expect(terminals.every((t) => t.status === 'complete')).toBe(true);

    // Frames of different generations never interleave: each starts after the previous one's terminal.
    const order = client.frames.filter((f) => 'seq' in f).map((f) => ('generationId' in f ? f.generationId : ''));
    const firstIndex = generations.map((g) => order.indexOf(g));
    const lastIndex = generations.map((g) => order.lastIndexOf(g));
    for (let i = 1; i < generations.length; i += 1) expect(firstIndex[i]).toBeGreaterThan(lastIndex[i - 1] ?? Infinity);

    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    expect(body.items.filter((m) => m.role === 'user').map((m) => m.text)).toEqual(texts);
    expect(body.items.filter((m) => m.role === 'bot').map((m) => m.generationId)).toEqual(generations);
    await client.close();
  });
});
