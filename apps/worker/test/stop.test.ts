import type { ChatMessage, Page } from '@ragstream/protocol';
import { HttpClient, SioChatClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

describe('stop from any node', () => {
  let cluster: TestCluster;
  let a: HttpClient;
  let b: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 2,
      workers: 2,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: '2000', SYNTHETIC_TOKENS_PER_SECOND: '40' },
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

  async function botMessages(chatId: string): Promise<ChatMessage[]> {
    const { body } = await a.get<Page<ChatMessage>>(`/chat/${chatId}/messages?limit=200`);
    return body.items.filter((m) => m.role === 'bot');
  }

  it('a client on node A is stopped through a socket on node B; the stored text is exactly what was streamed', async () => {
    const chatId = await a.createChat();
    const viewer = await WsChatClient.connect(cluster.api(0), chatId);
    const stopper = await SioChatClient.connect(cluster.api(1), { chatId });
    viewer.send({ mt: 'message_upload', message: 'tell me everything', userId: 'u1' });
    const confirm = await viewer.collector.waitForMt('message_upload_confirm');
    const generationId = confirm.generationId ?? '';
    await viewer.collector.waitFor((f) => f.mt === 'chat_message_bot_partial' && f.seq >= 4);

    stopper.emit('stop');
    const done = await viewer.collector.waitForTerminal(generationId, 5_000);
    expect(done.status).toBe('stopped');
    expect(done.text.length).toBeGreaterThan(0);
    expect(viewer.collector.textOf(generationId)).toBe(done.text);

    const [stored] = await botMessages(chatId);
    expect(stored?.status).toBe('stopped');
    expect(stored?.text).toBe(done.text);
    expect(stored?.id).toBe(done.messageId);

    // The chat answers the next message; nothing of the stopped generation follows its terminal frame.
    viewer.send({ mt: 'message_upload', message: 'next', userId: 'u1' });
    const next = await viewer.collector.waitForMt('message_upload_confirm', (f) => f.generationId !== generationId);
    await viewer.collector.waitForMt('chat_message_bot_partial', (f) => f.generationId === next.generationId);
    const frames = viewer.collector.ofGeneration(generationId);
    expect(frames.at(-1)).toEqual(done);
    expect(frames.filter((f) => f.mt === 'chat_message_bot_complete')).toHaveLength(1);
    const stopped = await b.post(`/chat/${chatId}/stop`);
    expect(stopped.status).toBe(200);
    await viewer.collector.waitForTerminal(next.generationId ?? '', 5_000);
    viewer.terminate();
    stopper.close();
  });

  it('REST stop on node B cancels the running answer and the queued ones, each with one terminal frame', async () => {
    const chatId = await a.createChat();
    const viewer = await WsChatClient.connect(cluster.api(0), chatId);
    for (const text of ['first', 'second', 'third'])
      viewer.send({ mt: 'message_upload', message: text, userId: 'u1', clientMessageId: text });
    const confirms = await Promise.all(
      ['first', 'second', 'third'].map((id) => viewer.collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === id)),
    );
    const generations = confirms.map((c) => c.generationId ?? '');
    await viewer.collector.waitForMt('chat_message_bot_partial', (f) => f.generationId === generations[0]);
    // Only the first answer runs; the others wait their turn.
    const status = await b.get<{ generating: { generationId: string } | null }>(`/chat/ws/${chatId}/status`);
    expect(status.body.generating?.generationId).toBe(generations[0]);

    const response = await b.post<{ stopped: string[] }>(`/chat/${chatId}/stop`);
    expect(response.status).toBe(200);
    expect(new Set(response.body.stopped)).toEqual(new Set(generations));
    const terminals = await Promise.all(generations.map((g) => viewer.collector.waitForTerminal(g, 5_000)));
    expect(terminals.map((t) => t.status)).toEqual(['stopped', 'stopped', 'stopped']);
    expect(terminals[1]?.text).toBe('');
    expect(terminals[2]?.text).toBe('');
    expect(viewer.collector.textOf(generations[0] ?? '')).toBe(terminals[0]?.text);

    const stored = await botMessages(chatId);
    expect(stored.map((m) => [m.generationId, m.status, m.text])).toEqual(terminals.map((t) => [t.generationId, 'stopped', t.text]));
    const after = await a.get<{ generating: unknown }>(`/chat/ws/${chatId}/status`);
    expect(after.body.generating).toBeNull();
    viewer.terminate();
  });
});
