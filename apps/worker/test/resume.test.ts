import type { ChatMessage, Page } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import { HttpClient, resumeAcrossNodes, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKENS = 150;

describe('resume after a reconnect to the other node', () => {
  let cluster: TestCluster;
  let http: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 2,
      workers: 1,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '100' },
    });
    http = new HttpClient(cluster.api(1));
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('gets every frame after lastSeq, no gap and no duplicate, and the text equals the stored message byte for byte', async () => {
    const chatId = await http.createChat();
    const { seen, resumed, done } = await resumeAcrossNodes(cluster, chatId, 'resume me');
    const lastSeq = seen.at(-1)?.seq ?? 0;
    expect(resumed[0]?.seq).toBe(lastSeq + 1);
    const seqs = [...seen, ...resumed].map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const received = [...seen, ...resumed].map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : '')).join('');
    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    const stored = body.items.find((m) => m.role === 'bot');
    expect(Buffer.from(received).equals(Buffer.from(stored?.text ?? ''))).toBe(true);
    expect(stored?.text).toBe(syntheticAnswer(TOKENS));
    expect(done.text).toBe(stored?.text);
  });

  it('after the answer ended, a resume still delivers the rest including the terminal frame', async () => {
    const chatId = await http.createChat();
    const first = await WsChatClient.connect(cluster.api(0), chatId);
    first.send({ mt: 'message_upload', message: 'short', userId: 'u1' });
    const generationId = (await first.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    await first.collector.waitFor((f) => f.mt === 'chat_message_bot_partial');
    const watcher = await WsChatClient.connect(cluster.api(1), chatId);
    first.terminate();
    await watcher.collector.waitForTerminal(generationId);

    const lastSeq = first.collector.ofGeneration(generationId).at(-1)?.seq ?? 0;
    const again = await WsChatClient.connect(cluster.api(1), chatId, { generationId, lastSeq });
    const done = await again.collector.waitForTerminal(generationId);
    const text = first.collector.textOf(generationId) + again.collector.textOf(generationId);
    expect(text).toBe(done.text);
    expect(again.collector.ofGeneration(generationId)[0]?.seq).toBe(lastSeq + 1);
    await Promise.all([again.close(), watcher.close()]);
  });
});
