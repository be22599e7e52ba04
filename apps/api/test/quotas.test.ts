import type { UsageReport } from '@ragstream/protocol';
import { estimateTokens, syntheticAnswer } from '@ragstream/rag';
import { ScriptedOpenAiChatServer } from '@ragstream/rag/testing';
import { HttpClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorFor, generationJobs, messagesOf, raw } from './helpers.ts';

const ADMIN_TOKEN = 'limits-test-admin-token-0123456789';
const TOKENS = 40;

/** Today's and this month's periods (UTC), and when their counts start again from 0. */
function periods(now = new Date()): { day: string; month: string; dayReset: string; monthReset: string } {
  const iso = now.toISOString();
  return {
    day: iso.slice(0, 10),
    month: iso.slice(0, 7),
    dayReset: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1)).toISOString(),
    monthReset: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1)).toISOString(),
  };
}

async function send(ws: WsChatClient, message: string, userId: string, clientMessageId: string): Promise<string> {
  ws.send({ mt: 'message_upload', message, userId, clientMessageId });
  const reply = await ws.collector.waitFor(
    (f) => (f.mt === 'message_upload_confirm' || f.mt === 'error') && f.clientMessageId === clientMessageId,
    15_000,
  );
  if (reply.mt !== 'message_upload_confirm') throw new Error(`${clientMessageId} refused: ${JSON.stringify(reply)}`);
  return reply.generationId ?? '';
}

describe('queue admission, token quotas and usage (synthetic model, workers started late)', () => {
  let cluster: TestCluster;
  let http: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 1,
      workers: 0,
      env: {
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: String(TOKENS),
        SYNTHETIC_TOKENS_PER_SECOND: '0',
        GENERATION_QUEUE_MAX_WAITING: '2',
        TOKEN_QUOTA_USER_DAILY: '80',
        ADMIN_TOKEN,
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

  it('past the waiting depth a new message gets busy (frame and 429), nothing is stored or queued; the queue drains and it is accepted', async () => {
    const chats = await Promise.all(['q-1', 'q-2', 'q-3', 'q-4'].map((user) => http.createChat(user)));
    for (const [index, chatId] of chats.slice(0, 2).entries()) {
      const { status } = await http.post(`/chat/${chatId}/messages`, { text: 'waiting', userId: `q-${index + 1}`, generate: true });
      expect(status).toBe(201);
    }
    const refused = await raw(cluster.api(0), 'POST', `/chat/${chats[2]}/messages`, { text: 'no room', userId: 'q-3', generate: true });
    expect(refused).toMatchObject({ status: 429, retryAfter: '5', body: { code: 'busy', retryAfter: 5 } });
    const ws = await WsChatClient.connect(cluster.api(0), chats[3] ?? '');
    try {
      ws.send({ mt: 'message_upload', message: 'no room either', userId: 'q-4', clientMessageId: 'busy-ws' });
      expect(await errorFor(ws.collector, 'busy-ws')).toMatchObject({ code: 'busy', retryAfter: 5 });
      expect(ws.isOpen).toBe(true);
      expect(await messagesOf(http, chats[2] ?? '')).toEqual([]);
      expect(await messagesOf(http, chats[3] ?? '')).toEqual([]);
      expect((await generationJobs(cluster)).map((job) => job.chatId).sort()).toEqual(chats.slice(0, 2).sort());

      await cluster.addWorker();
      const generationId = await eventuallyAccepted(ws, 'room now', 'q-4');
      expect((await ws.collector.waitForTerminal(generationId, 20_000)).text).toBe(syntheticAnswer(TOKENS));
    } finally {
      await ws.close();
    }
  });

  it('token quota: past the daily quota the next message gets quota_exceeded with the reset time; /usage counts the model’s reported tokens', async () => {
    const organisationId = (await http.post<{ id: string }>('/organisations', { name: 'Quota Org' })).body.id;
    const chatId = (await http.post<{ id: string }>('/chat/', { userId: 'quota-user', organisationId })).body.id;
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    try {
      // The synthetic model reports the question's estimated tokens in and the tokens it streamed out.
      const questions = ['What is the price?', 'And the delivery time?'];
      for (const [index, question] of questions.entries()) {
        const generationId = await send(ws, question, 'quota-user', `quota-${index}`);
        await ws.collector.waitForTerminal(generationId, 20_000);
      }
      const prompt = questions.reduce((sum, q) => sum + estimateTokens(q), 0);
      const usage = await waitForUsage(http, '/usage?userId=quota-user', prompt + 2 * TOKENS);
      const now = periods();
      const counts = { promptTokens: prompt, completionTokens: 2 * TOKENS, totalTokens: prompt + 2 * TOKENS };
      expect(usage).toEqual({
        scope: 'user',
        id: 'quota-user',
        day: { period: now.day, ...counts, limit: 80, resetAt: now.dayReset },
        month: { period: now.month, ...counts, limit: 20_000_000, resetAt: now.monthReset },
        answersInProgress: { count: 0, limit: 20 },
      });
      const day = now.dayReset;

      ws.send({ mt: 'message_upload', message: 'one more?', userId: 'quota-user', clientMessageId: 'quota-over' });
      const error = await errorFor(ws.collector, 'quota-over');
      expect(error).toMatchObject({ code: 'quota_exceeded', resetAt: day, retryAfter: expect.any(Number) });
      expect(error.message).toMatch(/daily token quota \(80\)/);
      const rest = await raw(cluster.api(0), 'POST', `/chat/${chatId}/messages`, {
        text: 'and by REST?',
        userId: 'quota-user',
        generate: true,
      });
      expect(rest).toMatchObject({ status: 429, body: { code: 'quota_exceeded', resetAt: day } });
      expect(Math.abs(Number(rest.retryAfter) - (Date.parse(day) - Date.now()) / 1000)).toBeLessThan(30);
      expect((await messagesOf(http, chatId)).map((m) => m.text)).not.toContain('one more?');
      expect((await messagesOf(http, chatId)).map((m) => m.text)).not.toContain('and by REST?');

      // Another user of the organisation still has quota, on the same connection.
      const other = await send(ws, 'Hello there', 'quota-colleague', 'quota-other');
      await ws.collector.waitForTerminal(other, 20_000);
      expect(ws.isOpen).toBe(true);

      // The organisation's usage: admins only, and the sum of its users'.
      const path = `/organisations/${organisationId}/usage`;
      expect(await raw(cluster.api(0), 'GET', path)).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
      expect(await raw(cluster.api(0), 'GET', path, undefined, { authorization: 'Bearer not-the-token-at-all' })).toMatchObject({
        status: 401,
      });
      const total = prompt + estimateTokens('Hello there') + 3 * TOKENS;
      const organisationUsage = await raw(cluster.api(0), 'GET', path, undefined, { authorization: `Bearer ${ADMIN_TOKEN}` });
      expect(organisationUsage.status).toBe(200);
      expect(organisationUsage.body).toMatchObject({
        scope: 'organisation',
        id: organisationId,
        day: { totalTokens: total, completionTokens: 3 * TOKENS, limit: 50_000_000 },
        month: { totalTokens: total, limit: 1_000_000_000 },
        answersInProgress: { count: 0, limit: 1000 },
      });
      expect(
        await raw(cluster.api(0), 'GET', '/organisations/0123456789abcdef01234567/usage', undefined, {
          authorization: `Bearer ${ADMIN_TOKEN}`,
        }),
      ).toMatchObject({
        status: 404,
      });
      expect(await raw(cluster.api(0), 'GET', '/usage')).toMatchObject({ status: 400, body: { code: 'invalid_query' } });
    } finally {
      await ws.close();
    }
  });
});

describe('usage as an OpenAI-compatible model reports it, and answers in progress released by a failure', () => {
  let server: ScriptedOpenAiChatServer;
  let cluster: TestCluster;
  let http: HttpClient;

  beforeAll(async () => {
    server = await ScriptedOpenAiChatServer.start({ embeddingDimensions: 16 });
    cluster = await TestCluster.start({
      env: {
        LLM_PROVIDER: 'openai',
        OPENAI_BASE_URL: server.baseURL,
        OPENAI_API_KEY: 'test',
        LLM_MAX_RETRIES: '0',
        ANSWERS_IN_PROGRESS_PER_USER: '1',
      },
    });
    http = new HttpClient(cluster.api());
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
    await server?.close();
  });

  it('counts exactly the prompt and completion tokens the model reported for every request of the answer', async () => {
    const chatId = await http.createChat('model-user');
    const ws = await WsChatClient.connect(cluster.api(), chatId);
    try {
      const before = server.chatRequests().length;
      server.enqueue({ type: 'text', tokens: ['translated question'] }, { type: 'text', tokens: ['We ', 'open ', 'at ', 'nine.'] });
      const generationId = await send(ws, 'When do you open?', 'model-user', 'model-1');
      expect((await ws.collector.waitForTerminal(generationId, 20_000)).text).toBe('We open at nine.');
      const requests = server.chatRequests().slice(before);
      expect(requests.map((r) => r.stream)).toEqual([false, true]);
      // The scripted server reports words as tokens: the prompt's, and the reply's (one per streamed token).
      const prompt = requests.reduce((sum, r) => sum + r.messages.reduce((n, m) => n + words(m.content), 0), 0);
      const completion = 2 + 4;
      const usage = await waitForUsage(http, '/usage?userId=model-user', prompt + completion);
      expect(usage.day).toMatchObject({ promptTokens: prompt, completionTokens: completion, totalTokens: prompt + completion });
    } finally {
      await ws.close();
    }
  });

  it('the one answer in progress holds the place until it is stopped or fails; each frees it', async () => {
    const [first, second] = [await http.createChat('slot-user'), await http.createChat('slot-user')];
    const ws = await WsChatClient.connect(cluster.api(), first ?? '');
    const other = await WsChatClient.connect(cluster.api(), second ?? '');
    try {
      server.enqueue({ type: 'text', tokens: ['q'] }, { type: 'stall', tokens: ['Partial '] });
      const running = await send(ws, 'Tell me everything', 'slot-user', 'slot-1');
      await ws.collector.waitFor(() => ws.collector.textOf(running) === 'Partial ', 15_000);
      other.send({ mt: 'message_upload', message: 'meanwhile', userId: 'slot-user', clientMessageId: 'slot-2' });
      expect(await errorFor(other.collector, 'slot-2')).toMatchObject({ code: 'too_many_answers' });
      ws.send({ mt: 'stop' });
      expect((await ws.collector.waitForTerminal(running, 10_000)).status).toBe('stopped');

      server.enqueue({ type: 'http-error', status: 401, message: 'Incorrect API key provided' });
      const failing = await send(other, 'after the stop', 'slot-user', 'slot-3');
      expect((await other.collector.waitForTerminal(failing, 15_000)).status).toBe('failed');

      // A follow-up now: the model rewrites it, translates it, then answers.
      server.enqueue({ type: 'text', tokens: ['q'] }, { type: 'text', tokens: ['q'] }, { type: 'text', tokens: ['Fine.'] });
      const after = await send(other, 'after the failure', 'slot-user', 'slot-4');
      expect((await other.collector.waitForTerminal(after, 15_000)).status).toBe('complete');
      expect((await http.get<UsageReport>('/usage?userId=slot-user')).body.answersInProgress).toEqual({ count: 0, limit: 1 });
    } finally {
      await Promise.all([ws.close(), other.close()]);
    }
  });
});

/** As the scripted server counts tokens. */
function words(text: string): number {
  return (text.toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? []).length;
}

/** Usage is counted when the attempt ends, just after its terminal frame: poll briefly for it. */
async function waitForUsage(http: HttpClient, path: string, totalTokens: number): Promise<UsageReport> {
  const deadline = Date.now() + 5_000;
  for (;;) {
    const { status, body } = await http.get<UsageReport>(path);
    expect(status).toBe(200);
    if (body.day.totalTokens >= totalTokens || Date.now() > deadline) return body;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** A message refused while the queue drains is sent again until it is accepted. */
async function eventuallyAccepted(ws: WsChatClient, message: string, userId: string): Promise<string> {
  const deadline = Date.now() + 20_000;
  for (let attempt = 0; ; attempt += 1) {
    try {
      return await send(ws, message, userId, `accepted-${attempt}`);
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
}
