import type { ChatMessage, Page } from '@ragstream/protocol';
import { GENERATE_QUEUE, RedisKeys } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import type { ManagedProcess } from '@ragstream/testing';
import { HttpClient, TEST_REDIS_URL, TestCluster, WsChatClient } from '@ragstream/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKENS = 150;
/** 4 s at 50 tokens a second: longer than the 1 s grace. */
const LONG_TOKENS = 200;

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

describe('SIGTERM on a worker whose answer outlasts SHUTDOWN_GRACE_SECONDS', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 1,
      workers: 2,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(LONG_TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '50' },
      workerEnv: { SHUTDOWN_GRACE_SECONDS: '1' },
    });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('hands it back: another worker starts attempt 2 at once, not after the stalled-job check; one answer is stored', async () => {
    const http = new HttpClient(cluster.api());
    const chatId = await http.createChat();
    const client = await WsChatClient.connect(cluster.api(), chatId);
    try {
      client.send({ mt: 'message_upload', message: 'outlast the grace', userId: 'u1' });
      const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
      await client.collector.waitFor((f) => f.mt === 'chat_message_bot_partial' && f.seq >= 3);

      const runner = await runnerOf(cluster, generationId);
      const stoppedAt = Date.now();
      await runner.stop(20_000);
      expect(await runner.waitForExit()).toBe(0);
      expect(runner.logs).toMatch(/handing the attempt back/);
      expect(runner.logs).not.toMatch(/unhandled|shutdown step failed|timed out/i);

      const retry = await client.collector.waitFor((f) => 'attempt' in f && f.attempt === 2 && f.generationId === generationId);
      expect(retry.mt).toBe('typing_indicator');
      // The stalled-job check would take lockDuration + stalledInterval (9 s and more); the grace is 1 s.
      expect(Date.now() - stoppedAt).toBeLessThan(6_000);
      const done = await client.collector.waitForTerminal(generationId);
      expect(done).toMatchObject({ status: 'complete', attempt: 2, text: syntheticAnswer(LONG_TOKENS) });
      expect(client.collector.textOf(generationId)).toBe(done.text);
      expect(client.collector.ofGeneration(generationId).filter((f) => f.mt === 'chat_message_bot_complete')).toHaveLength(1);

      const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
      const bots = body.items.filter((m) => m.role === 'bot');
      expect(bots).toHaveLength(1);
      expect(bots[0]).toMatchObject({ text: done.text, status: 'complete' });
    } finally {
      await client.close();
    }
  });
});

/** The worker process that runs a generation's job: BullMQ records it in processedBy. */
async function runnerOf(cluster: TestCluster, generationId: string): Promise<ManagedProcess> {
  const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const queue = new Queue(GENERATE_QUEUE, { connection, prefix: new RedisKeys(cluster.prefix).bullPrefix });
  try {
    const processedBy = (await queue.getJob(generationId))?.processedBy;
    const runner = cluster.workers.find((w) => processedBy?.endsWith(`-${w.pid}`));
    if (!runner) throw new Error(`no worker process matches ${processedBy}`);
    return runner;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
