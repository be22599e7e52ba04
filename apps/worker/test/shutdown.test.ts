import { syntheticAnswer } from '@ragstream/rag';
import { HttpClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKENS = 150;

describe('SIGTERM on a worker while it streams an answer', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '100' },
    });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('finishes the answer it runs, then exits 0 without an unhandled rejection', async () => {
    const worker = cluster.workers[0];
    if (!worker) throw new Error('no worker');
    const http = new HttpClient(cluster.api());
    const chatId = await http.createChat();
    const client = await WsChatClient.connect(cluster.api(), chatId);
    try {
      client.send({ mt: 'message_upload', message: 'keep going', userId: 'u1' });
      const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
      await client.collector.waitFor((f) => f.mt === 'chat_message_bot_partial' && f.seq >= 3);

      await worker.stop(20_000);
      expect(await worker.waitForExit()).toBe(0);
      const done = await client.collector.waitForTerminal(generationId);
      expect(done).toMatchObject({ status: 'complete', text: syntheticAnswer(TOKENS), attempt: 1 });
      expect(worker.logs).toMatch(/shutting down/);
      expect(worker.logs).not.toMatch(/unhandled|shutdown step failed|timed out/i);
    } finally {
      await client.close();
    }
  });
});
