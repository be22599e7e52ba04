import { syntheticAnswer } from '@ragstream/rag';
import { HttpClient, SioChatClient, SseChatClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { errorFor, errorsOf, generationJobs, messagesOf, raw } from './helpers.ts';

/** Answers take about 6 s: long enough to be in progress while the test sends more, even on a busy machine. */
const TOKENS = 60;
const TOKENS_PER_SECOND = 10;

const LIMITS = {
  MESSAGES_PER_MINUTE_PER_USER: 8,
  FRAMES_PER_SECOND_PER_CONNECTION: 6,
  LIMIT_ABUSE_FACTOR: 5,
  ANSWERS_IN_PROGRESS_PER_USER: 2,
  ANSWERS_IN_PROGRESS_PER_ORGANISATION: 3,
  CONNECTIONS_PER_USER: 3,
  DOCUMENT_MAX_BYTES: 2000,
  DOCUMENT_FORMATS: 'text,markdown',
  DOCUMENTS_PER_ORGANISATION: 2,
};

/** Sends a message and waits for its confirmation; returns its generation id. */
async function confirmed(client: WsChatClient | SioChatClient, message: string, userId: string, clientMessageId: string): Promise<string> {
  if (client instanceof WsChatClient) client.send({ mt: 'message_upload', message, userId, clientMessageId });
  else client.emit('message_upload', { message, userId, clientMessageId });
  const confirm = await client.collector.waitFor(
    (f) => (f.mt === 'message_upload_confirm' || f.mt === 'error') && f.clientMessageId === clientMessageId,
    15_000,
  );
  if (confirm.mt !== 'message_upload_confirm') throw new Error(`${clientMessageId} refused: ${JSON.stringify(confirm)}`);
  return confirm.generationId ?? '';
}

describe('limits shared by two API nodes (synthetic answers of about 6 s)', () => {
  let cluster: TestCluster;
  let a: HttpClient;
  let b: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 2,
      workers: 1,
      env: {
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: String(TOKENS),
        SYNTHETIC_TOKENS_PER_SECOND: String(TOKENS_PER_SECOND),
        ...Object.fromEntries(Object.entries(LIMITS).map(([name, value]) => [name, String(value)])),
      },
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

  async function organisation(name: string): Promise<string> {
    const { status, body } = await a.post<{ id: string }>('/organisations', { name });
    expect(status).toBe(201);
    return body.id;
  }

  async function chatOf(userId: string, organisationId?: string): Promise<string> {
    const { status, body } = await a.post<{ id: string }>('/chat/', { userId, ...(organisationId ? { organisationId } : {}) });
    expect(status).toBe(201);
    return body.id;
  }

  async function jobsOf(chatId: string): Promise<string[]> {
    return (await generationJobs(cluster)).filter((job) => job.chatId === chatId).map((job) => job.id);
  }

  it('messages per minute per user: counted across both nodes and every transport; 429 and error frames, nothing stored, the socket usable', async () => {
    const user = 'rate-user';
    const [chat1, chat2] = [await chatOf(user), await chatOf(user)];
    // REST messages that ask for no answer: only the message rate applies.
    for (let i = 0; i < LIMITS.MESSAGES_PER_MINUTE_PER_USER; i += 1) {
      const [http, chatId] = i % 2 === 0 ? [a, chat1] : [b, chat2];
      expect((await http.post(`/chat/${chatId}/messages`, { text: 'note', userId: user })).status).toBe(201);
    }
    const refused = await raw(cluster.api(0), 'POST', `/chat/${chat1}/messages`, { text: 'one too many', userId: user, generate: true });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({ code: 'rate_limited', retryAfter: expect.any(Number) });
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);
    expect(Number(refused.retryAfter)).toBeLessThanOrEqual(60);
    expect(Number(refused.retryAfter)).toBe(refused.body.retryAfter);

    const ws = await WsChatClient.connect(cluster.api(1), chat2);
    try {
      ws.send({ mt: 'message_upload', message: 'over the rate', userId: user, clientMessageId: 'rate-ws' });
      const error = await errorFor(ws.collector, 'rate-ws');
      expect(error).toMatchObject({ code: 'rate_limited', retryAfter: expect.any(Number) });
      expect(ws.isOpen).toBe(true);
      // The same socket, another user: answered.
      const generationId = await confirmed(ws, 'from someone else', 'rate-other', 'rate-ok');
      expect((await ws.collector.waitForTerminal(generationId, 20_000)).text).toBe(syntheticAnswer(TOKENS));
      const texts = [...(await messagesOf(a, chat1)), ...(await messagesOf(a, chat2))].map((m) => m.text);
      expect(texts).not.toContain('one too many');
      expect(texts).not.toContain('over the rate');
      expect(texts.filter((t) => t === 'note')).toHaveLength(LIMITS.MESSAGES_PER_MINUTE_PER_USER);
      expect(await jobsOf(chat1)).toEqual([]);
      expect(await jobsOf(chat2)).toEqual([generationId]);
    } finally {
      await ws.close();
    }
  });

  it('answers in progress per user, across nodes: refused while two run; a completed and a stopped answer each free a place', async () => {
    const user = 'busy-user';
    const chats = [await chatOf(user), await chatOf(user), await chatOf(user)];
    const ws = await WsChatClient.connect(cluster.api(0), chats[0] ?? '');
    const sio = await SioChatClient.connect(cluster.api(1), { chatId: chats[1] ?? '' });
    const third = await WsChatClient.connect(cluster.api(1), chats[2] ?? '');
    try {
      const first = await confirmed(ws, 'first', user, 'ip-1');
      const second = await confirmed(sio, 'second', user, 'ip-2');
      third.send({ mt: 'message_upload', message: 'third', userId: user, clientMessageId: 'ip-3' });
      expect(await errorFor(third.collector, 'ip-3')).toMatchObject({ code: 'too_many_answers', retryAfter: 5 });
      const rest = await raw(cluster.api(0), 'POST', `/chat/${chats[2]}/messages`, { text: 'third by REST', userId: user, generate: true });
      expect(rest).toMatchObject({ status: 429, retryAfter: '5', body: { code: 'too_many_answers' } });
      expect(await messagesOf(a, chats[2] ?? '')).toEqual([]);
      expect(await jobsOf(chats[2] ?? '')).toEqual([]);
      expect((await a.get<{ answersInProgress: unknown }>(`/usage?userId=${user}`)).body.answersInProgress).toEqual({ count: 2, limit: 2 });

      // Stopped: its place is free at once.
      sio.emit('stop');
      expect((await sio.collector.waitForTerminal(second, 10_000)).status).toBe('stopped');
      const afterStop = await confirmed(third, 'third, after a stop', user, 'ip-4');
      third.send({ mt: 'message_upload', message: 'fourth', userId: user, clientMessageId: 'ip-5' });
      expect(await errorFor(third.collector, 'ip-5')).toMatchObject({ code: 'too_many_answers' });
      // Completed: its place is free too.
      expect((await ws.collector.waitForTerminal(first, 20_000)).status).toBe('complete');
      const afterComplete = await confirmed(ws, 'after a completed one', user, 'ip-6');
      expect(third.isOpen).toBe(true);
      await ws.collector.waitForTerminal(afterComplete, 20_000);
      await third.collector.waitForTerminal(afterStop, 20_000);
      expect((await a.get<{ answersInProgress: unknown }>(`/usage?userId=${user}`)).body.answersInProgress).toEqual({ count: 0, limit: 2 });
    } finally {
      await Promise.all([ws.close(), third.close()]);
      sio.close();
    }
  });

  it('answers in progress per organisation: the fourth user of a busy organisation is refused', async () => {
    const organisationId = await organisation('Busy Org');
    const clients: WsChatClient[] = [];
    try {
      const generations: string[] = [];
      for (const [index, http] of [a, b, a].entries()) {
        const client = await WsChatClient.connect(http.baseUrl, await chatOf(`org-user-${index}`, organisationId));
        clients.push(client);
        generations.push(await confirmed(client, 'question', `org-user-${index}`, `org-${index}`));
      }
      const last = await WsChatClient.connect(cluster.api(1), await chatOf('org-user-3', organisationId));
      clients.push(last);
      last.send({ mt: 'message_upload', message: 'question', userId: 'org-user-3', clientMessageId: 'org-3' });
      const error = await errorFor(last.collector, 'org-3');
      expect(error).toMatchObject({ code: 'too_many_answers' });
      expect(error.message).toMatch(/organisation/);
      // Someone in another organisation is not held up.
      const elsewhere = await WsChatClient.connect(cluster.api(1), await chatOf('org-outsider'));
      clients.push(elsewhere);
      await confirmed(elsewhere, 'question', 'org-outsider', 'org-out');
      await Promise.all(generations.map((g, i) => clients[i]?.collector.waitForTerminal(g, 30_000)));
      await confirmed(last, 'question again', 'org-user-3', 'org-3-again');
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('connections per user, across nodes and transports: the next one is refused with a reason, the open ones stay usable', async () => {
    const user = 'conn-user';
    const chatId = await chatOf(user);
    const userLevelA = await SioChatClient.connect(cluster.api(0), { userId: user });
    const userLevelB = await SioChatClient.connect(cluster.api(1), { userId: user });
    // A chat connection that names no user is its chat owner's.
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    try {
      const refusedWs = await WsChatClient.connect(cluster.api(1), chatId);
      expect(await refusedWs.closed).toEqual({ code: 4429, reason: expect.stringMatching(/connections/) });
      expect(errorsOf(refusedWs.collector)).toMatchObject([{ code: 'too_many_connections', retryAfter: 15 }]);
      const refusedSio = await SioChatClient.connect(cluster.api(1), { chatId, userId: user }).then(
        () => undefined,
        (err: { data?: unknown }) => err.data,
      );
      expect(refusedSio).toMatchObject({ code: 'too_many_connections', retryAfter: 15 });
      const refusedSse = await raw(cluster.api(0), 'GET', `/chat/${chatId}/events`, undefined, { accept: 'text/event-stream' });
      expect(refusedSse).toMatchObject({ status: 429, retryAfter: '15', body: { code: 'too_many_connections' } });
      // Another user's connection to the same node is not affected.
      const other = await SioChatClient.connect(cluster.api(1), { userId: 'conn-other' });
      other.close();

      const generationId = await confirmed(ws, 'still usable', user, 'conn-1');
      expect((await ws.collector.waitForTerminal(generationId, 20_000)).status).toBe('complete');
      userLevelB.close();
      // Its place frees once the node has seen the disconnect.
      const deadline = Date.now() + 10_000;
      let sse: SseChatClient | undefined;
      while (!sse) {
        sse = await SseChatClient.connect(cluster.api(1), chatId).catch((err: unknown) => {
          if (Date.now() > deadline) throw err;
          return undefined;
        });
        if (!sse) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      await sse.close();
    } finally {
      await ws.close();
      userLevelA.close();
      userLevelB.close();
    }
  });

  it('frames per second per connection: frames past it get rate_limited and the socket stays usable; far past it closes with a reason', async () => {
    const chatId = await chatOf('frames-user');
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    for (let i = 0; i < 8; i += 1) ws.send({ mt: 'not_a_frame', clientMessageId: `f-${i}` });
    await ws.collector.waitFor(() => errorsOf(ws.collector).length === 8, 10_000);
    const codes = errorsOf(ws.collector).map((e) => [e.clientMessageId, e.code]);
    expect(codes.slice(0, 6)).toEqual([0, 1, 2, 3, 4, 5].map((i) => [`f-${i}`, 'unknown_message_type']));
    expect(codes.slice(6)).toEqual([
      ['f-6', 'rate_limited'],
      ['f-7', 'rate_limited'],
    ]);
    expect(errorsOf(ws.collector)[7]?.retryAfter).toBe(1);
    expect(ws.isOpen).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const generationId = await confirmed(ws, 'after the burst', 'frames-user', 'f-ok');
    expect((await ws.collector.waitForTerminal(generationId, 20_000)).status).toBe('complete');

    // More than 5 x 6 frames in one second: closed, 1008, after an error frame that says why.
    const flood = await WsChatClient.connect(cluster.api(1), chatId);
    for (let i = 0; i < 40; i += 1)
      flood.send({ mt: 'message_upload', message: `flood ${i}`, userId: 'frames-user', clientMessageId: `flood-${i}` });
    const closed = await flood.closed;
    expect(closed).toEqual({ code: 1008, reason: expect.stringMatching(/rate limit/) });
    expect(errorsOf(flood.collector).some((e) => e.code === 'rate_limited' && /frames/.test(e.message))).toBe(true);
    // Only the frames within the limit were stored; the node serves on.
    const floodStored = (await messagesOf(a, chatId)).filter((m) => m.text.startsWith('flood'));
    expect(floodStored.length).toBeLessThanOrEqual(LIMITS.FRAMES_PER_SECOND_PER_CONNECTION);
    expect(ws.isOpen).toBe(true);
    await ws.close();
  });

  it('documents: size, type and count per organisation; 413, 415 and 429, nothing stored', async () => {
    const organisationId = await organisation('Docs Org');
    const path = `/organisations/${organisationId}/documents`;
    expect(await raw(cluster.api(0), 'POST', path, { title: 'big', format: 'text', content: 'x'.repeat(2001) })).toMatchObject({
      status: 413,
      body: { code: 'message_too_large' },
    });
    expect(await raw(cluster.api(0), 'POST', path, { title: 'page', format: 'html', content: '<p>hi</p>' })).toMatchObject({
      status: 415,
      body: { code: 'unsupported_document_type' },
    });
    const rawHtml = await fetch(`${cluster.api(1)}${path}?title=page`, {
      method: 'POST',
      headers: { 'content-type': 'text/html' },
      body: '<p>hi</p>',
    });
    expect(rawHtml.status).toBe(415);
    expect((await a.post(path, { title: 'one', format: 'text', content: 'first' })).status).toBe(202);
    expect((await b.post(path, { title: 'two', format: 'markdown', content: '# second' })).status).toBe(202);
    const third = await raw(cluster.api(1), 'POST', path, { title: 'three', format: 'text', content: 'third' });
    expect(third).toMatchObject({ status: 429, body: { code: 'too_many_documents' } });
    const { body } = await a.get<{ items: { title: string }[] }>(path);
    expect(body.items.map((d) => d.title).sort()).toEqual(['one', 'two']);
  });
});
