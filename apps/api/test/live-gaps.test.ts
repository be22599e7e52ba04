import type { GenerationFrame } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import type { ManagedProcess } from '@ragstream/testing';
import { HttpClient, SioChatClient, SseChatClient, TEST_REDIS_URL, TestCluster, WsChatClient } from '@ragstream/testing';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, messagesOf } from './helpers.ts';

const TOKENS = 300;
const ANSWER = syntheticAnswer(TOKENS);
/** Fractions of the answer's text after which the node's frame subscriber is killed; the last one aims at the terminal frame. */
const KILL_AT = [0.1, 0.3, 0.5, 0.7, 0.97];

/** The ids of an API node's frame subscriber connection (named `${nodeId}-frames`), from CLIENT LIST. */
async function subscriberIds(redis: Redis, api: ManagedProcess): Promise<string[]> {
  const nodeId = /"nodeId":"([^"]+)"/.exec(api.logs)?.[1];
  if (nodeId === undefined) throw new Error(`${api.name} logged no nodeId`);
  const list = (await redis.client('LIST')) as string;
  return list
    .split('\n')
    .filter((line) => line.includes(` name=${nodeId}-frames `))
    .flatMap((line) => /(?:^|\s)id=(\d+)/.exec(line)?.[1] ?? []);
}

describe("live frames across kills of an API node's frame subscriber", () => {
  let cluster: TestCluster;
  let http: HttpClient;
  let admin: Redis;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 1,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '100' },
    });
    http = new HttpClient(cluster.api(0));
    admin = new Redis(TEST_REDIS_URL);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    admin?.disconnect();
    await cluster?.stop();
  });

  it('every client gets every seq exactly once, the terminal frame, and the stored text', async () => {
    const api = cluster.apis[0];
    if (!api) throw new Error('no API node');
    const chatId = await http.createChat();
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    const sio = await SioChatClient.connect(cluster.api(0), { chatId });
    const sse = await SseChatClient.connect(cluster.api(0), chatId);
    try {
      ws.send({ mt: 'message_upload', message: 'a long answer, please', userId: 'u1' });
      const generationId = (await ws.collector.waitForMt('message_upload_confirm')).generationId ?? '';
      const terminal = ws.collector.waitForTerminal(generationId, 60_000);

      let kills = 0;
      for (const fraction of KILL_AT) {
        const progressed = ws.collector.waitFor(() => ws.collector.textOf(generationId).length >= fraction * ANSWER.length, 60_000);
        if ((await Promise.race([progressed.then(() => 'progressed'), terminal.then(() => 'ended')])) === 'ended') break;
        // The previous kill's reconnect must be done, or this kill would find no connection.
        const [id] = await eventually(
          () => subscriberIds(admin, api),
          (ids) => ids.length === 1,
        );
        await admin.client('KILL', 'ID', id ?? '');
        kills += 1;
      }
      expect(kills).toBeGreaterThanOrEqual(3);
      const done = await terminal;
      expect(done.status).toBe('complete');
      expect(done.text).toBe(ANSWER);

      const stored = (await messagesOf(http, chatId)).find((m) => m.generationId === generationId);
      expect(stored?.text).toBe(ANSWER);
      for (const collector of [ws.collector, sio.collector, sse.collector]) {
        const last = await collector.waitForTerminal(generationId, 30_000);
        const frames = collector.ofGeneration(generationId) as GenerationFrame[];
        expect(frames.map((f) => f.seq)).toEqual(frames.map((_, i) => i + 1));
        expect(frames.at(-1)).toEqual(last);
        expect(collector.textOf(generationId)).toBe(stored?.text);
      }
    } finally {
      await Promise.all([ws.close(), sse.close()]);
      sio.close();
    }
  });
});
