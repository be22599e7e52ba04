import type { ChatMessage, Page } from '@ragstream/protocol';
import { GENERATE_QUEUE, RedisKeys } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import { HttpClient, TEST_REDIS_URL, TestCluster, WsChatClient } from '@ragstream/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKENS = 300;

describe('a worker killed with SIGKILL mid-answer', () => {
  let cluster: TestCluster;
  let http: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 2,
      workers: 2,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '100' },
    });
    http = new HttpClient(cluster.api(0));
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('is retried by another worker within 15 s; clients see the new attempt replace the old; one bot message is stored', async () => {
    const chatId = await http.createChat();
    const client = await WsChatClient.connect(cluster.api(0), chatId);
    const other = await WsChatClient.connect(cluster.api(1), chatId);
    client.send({ mt: 'message_upload', message: 'survive a crash', userId: 'u1' });
    const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    await client.collector.waitFor((f) => f.mt === 'chat_message_bot_partial' && f.seq >= 5);
    expect(await answersInProgress(http, 'u1')).toBe(1);

    // BullMQ records which worker process runs the job; that one is killed.
    const connection = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
    const queue = new Queue(GENERATE_QUEUE, { connection, prefix: new RedisKeys(cluster.prefix).bullPrefix });
    const runner = (await queue.getJob(generationId))?.processedBy;
    await queue.close();
    connection.disconnect();
    const doomed = cluster.workers.find((w) => runner?.endsWith(`-${w.pid}`));
    if (!doomed) throw new Error(`no worker process matches ${runner}`);
    const killedAt = Date.now();
    await doomed.kill();

    const retry = await client.collector.waitFor((f) => 'attempt' in f && f.attempt === 2 && f.generationId === generationId, 20_000);
    expect(Date.now() - killedAt).toBeLessThan(15_000);
    expect(retry.mt).toBe('typing_indicator');
    const done = await client.collector.waitForTerminal(generationId);
    expect(done.status).toBe('complete');
    expect(done.attempt).toBe(2);
    expect(done.text).toBe(syntheticAnswer(TOKENS));
    // Clients drop the first attempt's text: what they show equals the stored answer.
    expect(client.collector.textOf(generationId)).toBe(done.text);
    await other.collector.waitForTerminal(generationId);
    expect(other.collector.textOf(generationId)).toBe(done.text);
    // seq keeps growing across attempts.
    const seqs = client.collector.ofGeneration(generationId).map((f) => f.seq);
    expect(seqs).toEqual(seqs.map((_, i) => i + 1));

    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    const bots = body.items.filter((m) => m.role === 'bot');
    expect(bots).toHaveLength(1);
    expect(bots[0]?.text).toBe(done.text);
    expect(bots[0]?.status).toBe('complete');
    // The answer's place among the user's answers in progress is free again, whichever worker ended it.
    expect(await answersInProgress(http, 'u1')).toBe(0);
    await Promise.all([client.close(), other.close()]);
  });
});

async function answersInProgress(http: HttpClient, userId: string): Promise<number> {
  const { body } = await http.get<{ answersInProgress: { count: number } }>(`/usage?userId=${userId}`);
  return body.answersInProgress.count;
}
