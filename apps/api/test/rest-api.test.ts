import type { ServerFrame } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import { freePort, HttpClient, SseChatClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Chat, ChatMessage, ChatStatus, Page } from './helpers.ts';
import { eventually, expectError, generationJobs, HEX_ID, MALFORMED_IDS, messagesOf, openStore, UNKNOWN_ID } from './helpers.ts';

const MAX_MESSAGE_BYTES = 64;
/** "नमस्ते": 6 UTF-16 code units, 18 bytes of UTF-8. */
const NAMASTE = 'नमस्ते';

describe('REST API on 1 API node and 1 worker (fast synthetic answers)', () => {
  const TOKENS = 30;
  let cluster: TestCluster;
  let http: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: {
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: String(TOKENS),
        SYNTHETIC_TOKENS_PER_SECOND: '300',
        MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
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

  it('POST /chat/ creates a chat (201, 24-hex id) that GET /chat/:chatId returns', async () => {
    const created = await http.post<Chat>('/chat/', { userId: 'u-create', title: 'Pricing questions' });
    expect(created.status).toBe(201);
    expect(created.body.id).toMatch(HEX_ID);
    expect(created.body).toMatchObject({ userId: 'u-create', title: 'Pricing questions' });
    expect(Number.isNaN(Date.parse(created.body.createdAt))).toBe(false);
    expect(created.body.updatedAt).toBe(created.body.createdAt);

    const untitled = await http.post<Chat>('/chat/', { userId: 'u-create' });
    expect(untitled.status).toBe(201);
    expect(untitled.body.title).toBe('New chat');
    expect(untitled.body.id).not.toBe(created.body.id);

    const fetched = await http.get<Chat>(`/chat/${created.body.id}`);
    expect(fetched).toEqual({ status: 200, body: created.body });
  });

  it('POST /chat/ rejects invalid bodies with 400 and malformed JSON with invalid_json', async () => {
    expectError(await http.post('/chat/', {}), 400, 'invalid_body');
    expectError(await http.post('/chat/', { userId: '' }), 400, 'invalid_body');
    expectError(await http.post('/chat/', { userId: 42 }), 400, 'invalid_body');
    expectError(await http.post('/chat/', { userId: 'u-bad', title: 7 }), 400, 'invalid_body');
    expectError(await http.post('/chat/', ['u-bad']), 400, 'invalid_body');
    expectError(await http.request('POST', '/chat/', undefined, '{"userId": "u-bad",'), 400, 'invalid_json');
    expectError(await http.request('POST', '/chat/', undefined, "{'userId': 'u-bad'}"), 400, 'invalid_json');
    const list = await http.get<Page<Chat>>('/chat/user/u-bad');
    expect(list.body).toEqual({ items: [], nextCursor: null });
  });

  it('GET /chat/user/:userId lists oldest first with cursor pagination', async () => {
    const userId = `u-list-${Date.now()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      const res = await http.post<Chat>('/chat/', { userId, title: `chat ${i}` });
      ids.push(res.body.id);
    }
    await http.createChat(`${userId}-other`);

    const all = await http.get<Page<Chat>>(`/chat/user/${userId}`);
    expect(all.status).toBe(200);
    expect(all.body.items.map((c) => c.id)).toEqual(ids);
    expect(all.body.items.map((c) => c.title)).toEqual(['chat 0', 'chat 1', 'chat 2', 'chat 3', 'chat 4']);
    expect(all.body.nextCursor).toBeNull();

    const seen: string[] = [];
    const pageSizes: number[] = [];
    let cursor: string | null = null;
    do {
      const query: string = cursor === null ? '?limit=2' : `?limit=2&cursor=${encodeURIComponent(cursor)}`;
      const page = await http.get<Page<Chat>>(`/chat/user/${userId}${query}`);
      expect(page.status).toBe(200);
      pageSizes.push(page.body.items.length);
      seen.push(...page.body.items.map((c) => c.id));
      cursor = page.body.nextCursor;
    } while (cursor !== null && pageSizes.length < 10);
    expect(pageSizes).toEqual([2, 2, 1]);
    expect(seen).toEqual(ids);

    const exact = await http.get<Page<Chat>>(`/chat/user/${userId}?limit=5`);
    expect(exact.body.items).toHaveLength(5);
    expect(exact.body.nextCursor).toBeNull();
    expect((await http.get<Page<Chat>>(`/chat/user/${userId}?limit=200`)).status).toBe(200);
    expect((await http.get<Page<Chat>>('/chat/user/nobody-at-all')).body).toEqual({ items: [], nextCursor: null });
  });

  it('GET /chat/user/:userId rejects a bad limit (invalid_query) and a bad cursor (invalid_cursor)', async () => {
    const userId = 'u-badquery';
    await http.createChat(userId);
    for (const limit of ['201', '1000', '0', '-1', 'abc', '1.5']) {
      expectError(await http.get(`/chat/user/${userId}?limit=${limit}`), 400, 'invalid_query');
    }
    for (const cursor of ['garbage', 'MTIzOmFiYw', Buffer.from(`1:${UNKNOWN_ID.toUpperCase()}`).toString('base64url')]) {
      expectError(await http.get(`/chat/user/${userId}?cursor=${cursor}`), 400, 'invalid_cursor');
    }
    const chatId = await http.createChat(userId);
    expectError(await http.get(`/chat/${chatId}/messages?cursor=garbage`), 400, 'invalid_cursor');
    expectError(await http.get(`/chat/${chatId}/messages?limit=201`), 400, 'invalid_query');
  });

  it('PUT and DELETE /chat/:chatId update and delete a chat', async () => {
    const chatId = await http.createChat('u-crud');
    const before = (await http.get<Chat>(`/chat/${chatId}`)).body;

    const updated = await http.put<Chat>(`/chat/${chatId}`, { title: 'Renamed' });
    expect(updated.status).toBe(200);
    expect(updated.body).toMatchObject({ id: chatId, userId: 'u-crud', title: 'Renamed', createdAt: before.createdAt });
    expect(Date.parse(updated.body.updatedAt)).toBeGreaterThanOrEqual(Date.parse(before.updatedAt));
    expect((await http.get<Chat>(`/chat/${chatId}`)).body.title).toBe('Renamed');

    expectError(await http.put(`/chat/${chatId}`, {}), 400, 'invalid_body');
    expectError(await http.put(`/chat/${chatId}`, { title: 5 }), 400, 'invalid_body');
    expectError(await http.request('PUT', `/chat/${chatId}`, undefined, '{"title":'), 400, 'invalid_json');
    expect((await http.get<Chat>(`/chat/${chatId}`)).body.title).toBe('Renamed');

    await http.post(`/chat/${chatId}/messages`, { text: 'to be deleted with the chat' });
    expect(await messagesOf(http, chatId)).toHaveLength(1);
    const deleted = await http.delete(`/chat/${chatId}`);
    expect(deleted.status).toBe(204);
    expectError(await http.get(`/chat/${chatId}`), 404, 'chat_not_found');
    expectError(await http.get(`/chat/${chatId}/messages`), 404, 'chat_not_found');
    expectError(await http.delete(`/chat/${chatId}`), 404, 'chat_not_found');
    expect((await http.get<Page<Chat>>('/chat/user/u-crud')).body.items.map((c) => c.id)).not.toContain(chatId);
    const store = await openStore(cluster);
    try {
      expect((await store.listMessages(chatId, { limit: 10 })).items).toEqual([]);
    } finally {
      await store.close();
    }
  });

  it('answers 404 with a JSON error for unknown and for malformed chat and message ids', async () => {
    const chatId = await http.createChat('u-404');
    const message = (await http.post<ChatMessage>(`/chat/${chatId}/messages`, { text: 'hi' })).body;

    for (const badChat of [UNKNOWN_ID, ...MALFORMED_IDS]) {
      const requests: [string, string, unknown][] = [
        ['GET', `/chat/${badChat}`, undefined],
        ['PUT', `/chat/${badChat}`, { title: 'x' }],
        ['DELETE', `/chat/${badChat}`, undefined],
        ['GET', `/chat/${badChat}/messages`, undefined],
        ['POST', `/chat/${badChat}/messages`, { text: 'hello' }],
        ['POST', `/chat/${badChat}/messages`, { text: 'hello', userId: 'u-404', generate: true }],
        ['GET', `/chat/${badChat}/full`, undefined],
        ['GET', `/chat/ws/${badChat}/status`, undefined],
        ['POST', `/chat/${badChat}/stop`, undefined],
        ['GET', `/chat/${badChat}/events`, undefined],
      ];
      for (const [method, path, body] of requests) {
        const result = await http.request(method, path, body);
        expect(`${method} ${path} -> ${result.status}`).toBe(`${method} ${path} -> 404`);
        expectError(result, 404, 'chat_not_found');
      }
      // Unknown and malformed chat ids read alike, also on the message endpoints.
      expectError(await http.put(`/chat/${badChat}/messages/${message.id}`, { text: 'x' }), 404, 'chat_not_found');
      expectError(await http.delete(`/chat/${badChat}/messages/${message.id}`), 404, 'chat_not_found');
    }

    for (const badMessage of [UNKNOWN_ID, ...MALFORMED_IDS]) {
      expectError(await http.put(`/chat/${chatId}/messages/${badMessage}`, { text: 'x' }), 404, 'message_not_found');
      expectError(await http.delete(`/chat/${chatId}/messages/${badMessage}`), 404, 'message_not_found');
    }
    // The message exists, but in another chat.
    const otherChat = await http.createChat('u-404');
    expectError(await http.put(`/chat/${otherChat}/messages/${message.id}`, { text: 'x' }), 404, 'message_not_found');
    expectError(await http.delete(`/chat/${otherChat}/messages/${message.id}`), 404, 'message_not_found');

    expectError(await http.get('/no/such/route'), 404, 'not_found');
    // Nothing was created, changed or deleted by the failed requests.
    expect(await messagesOf(http, chatId)).toEqual([message]);
    expect(await messagesOf(http, otherChat)).toEqual([]);
  });

  it('stores, lists (paginated), updates and deletes messages; GET /chat/:chatId/full returns chat and messages', async () => {
    const chatId = await http.createChat('u-msg');
    const first = await http.post<ChatMessage>(`/chat/${chatId}/messages`, { role: 'user', text: 'first question' });
    expect(first.status).toBe(201);
    expect(first.body.id).toMatch(HEX_ID);
    expect(first.body).toMatchObject({ chatId, role: 'user', text: 'first question' });
    expect(first.body.status).toBeUndefined();
    expect(first.body).not.toHaveProperty('generationId');
    const defaultRole = await http.post<ChatMessage>(`/chat/${chatId}/messages`, { text: 'role defaults to user' });
    expect(defaultRole.status).toBe(201);
    expect(defaultRole.body.role).toBe('user');
    const bot = await http.post<ChatMessage>(`/chat/${chatId}/messages`, { role: 'bot', text: 'an imported bot answer' });
    expect(bot.status).toBe(201);
    expect(bot.body.role).toBe('bot');
    const hindi = await http.post<ChatMessage>(`/chat/${chatId}/messages`, { text: NAMASTE });
    expect(hindi.body.text).toBe(NAMASTE);

    const ids = [first.body.id, defaultRole.body.id, bot.body.id, hindi.body.id];
    expect((await messagesOf(http, chatId)).map((m) => m.id)).toEqual(ids);

    const paged: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query: string = cursor === null ? '?limit=3' : `?limit=3&cursor=${encodeURIComponent(cursor)}`;
      const page = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages${query}`);
      expect(page.status).toBe(200);
      paged.push(...page.body.items.map((m) => m.id));
      cursor = page.body.nextCursor;
      pages += 1;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(2);
    expect(paged).toEqual(ids);

    const edited = await http.put<ChatMessage>(`/chat/${chatId}/messages/${first.body.id}`, { text: 'first question, edited' });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({
      id: first.body.id,
      chatId,
      role: 'user',
      text: 'first question, edited',
      createdAt: first.body.createdAt,
    });
    expectError(await http.put(`/chat/${chatId}/messages/${first.body.id}`, {}), 400, 'invalid_body');
    expectError(await http.put(`/chat/${chatId}/messages/${first.body.id}`, { text: '' }), 400, 'invalid_body');
    expectError(await http.put(`/chat/${chatId}/messages/${first.body.id}`, { text: 3 }), 400, 'invalid_body');
    expectError(await http.request('PUT', `/chat/${chatId}/messages/${first.body.id}`, undefined, '{"text"'), 400, 'invalid_json');

    expect((await http.delete(`/chat/${chatId}/messages/${defaultRole.body.id}`)).status).toBe(204);
    expectError(await http.delete(`/chat/${chatId}/messages/${defaultRole.body.id}`), 404, 'message_not_found');
    expectError(await http.put(`/chat/${chatId}/messages/${defaultRole.body.id}`, { text: 'gone' }), 404, 'message_not_found');

    const remaining = await messagesOf(http, chatId);
    expect(remaining.map((m) => [m.id, m.text])).toEqual([
      [first.body.id, 'first question, edited'],
      [bot.body.id, 'an imported bot answer'],
      [hindi.body.id, NAMASTE],
    ]);

    const chat = (await http.get<Chat>(`/chat/${chatId}`)).body;
    const full = await http.get<Chat & { messages: Page<ChatMessage> }>(`/chat/${chatId}/full`);
    expect(full.status).toBe(200);
    expect(full.body).toEqual({ ...chat, messages: { items: remaining, nextCursor: null } });
    const fullPage = await http.get<Chat & { messages: Page<ChatMessage> }>(`/chat/${chatId}/full?limit=2`);
    expect(fullPage.body.messages.items).toEqual(remaining.slice(0, 2));
    expect(typeof fullPage.body.messages.nextCursor).toBe('string');
    expectError(await http.get(`/chat/${chatId}/full?limit=999`), 400, 'invalid_query');
  });

  it('POST /chat/:chatId/messages rejects invalid bodies with 400 and stores nothing', async () => {
    const chatId = await http.createChat('u-badmsg');
    const bad: unknown[] = [
      {},
      { text: '' },
      { text: 5 },
      { text: { nested: true } },
      { text: 'hi', role: 'admin' },
      { text: 'hi', generate: 'yes' },
      { text: 'hi', userId: 42, generate: true },
      { text: 'hi', clientMessageId: '' },
      { text: 'hi', clientMessageId: 'x'.repeat(129) },
      // Starting an answer needs the asking user's id.
      { text: 'who asks?', generate: true },
      // Only a user message can start an answer.
      { text: 'bot text', role: 'bot', generate: true, userId: 'u-badmsg' },
    ];
    for (const body of bad) {
      const result = await http.post(`/chat/${chatId}/messages`, body);
      expect(`${JSON.stringify(body)} -> ${result.status}`).toBe(`${JSON.stringify(body)} -> 400`);
      expectError(result, 400, 'invalid_body');
    }
    expectError(await http.request('POST', `/chat/${chatId}/messages`, undefined, '{"text": "hi"'), 400, 'invalid_json');
    expectError(await http.request('POST', `/chat/${chatId}/messages`, undefined, 'not json at all'), 400, 'invalid_json');
    expect(await messagesOf(http, chatId)).toEqual([]);
    expect((await generationJobs(cluster)).filter((job) => job.chatId === chatId)).toEqual([]);
  });

  it('rejects message text over MAX_MESSAGE_BYTES (UTF-8 bytes, not characters) with 413 message_too_large', async () => {
    const chatId = await http.createChat('u-size');
    const atLimit = 'a'.repeat(MAX_MESSAGE_BYTES);
    const overAscii = 'a'.repeat(MAX_MESSAGE_BYTES + 1);
    const hindiOk = NAMASTE.repeat(3); // 18 characters, 54 bytes
    const hindiOver = NAMASTE.repeat(4); // 24 characters, 72 bytes: under the limit in characters, over it in bytes
    expect(hindiOver.length).toBeLessThan(MAX_MESSAGE_BYTES);
    expect(Buffer.byteLength(hindiOver)).toBeGreaterThan(MAX_MESSAGE_BYTES);

    expect((await http.post(`/chat/${chatId}/messages`, { text: atLimit })).status).toBe(201);
    expect((await http.post(`/chat/${chatId}/messages`, { text: hindiOk })).status).toBe(201);
    expectError(await http.post(`/chat/${chatId}/messages`, { text: overAscii }), 413, 'message_too_large');
    expectError(await http.post(`/chat/${chatId}/messages`, { text: hindiOver }), 413, 'message_too_large');
    expectError(await http.post(`/chat/${chatId}/messages`, { text: hindiOver, role: 'bot' }), 413, 'message_too_large');
    expectError(
      await http.post(`/chat/${chatId}/messages`, { text: hindiOver, generate: true, userId: 'u-size' }),
      413,
      'message_too_large',
    );
    expectError(await http.post(`/chat/${chatId}/messages`, { text: 'x'.repeat(100 * 1024) }), 413, 'message_too_large');

    const stored = await messagesOf(http, chatId);
    expect(stored.map((m) => m.text)).toEqual([atLimit, hindiOk]);
    const target = stored[1]?.id ?? '';
    expectError(await http.put(`/chat/${chatId}/messages/${target}`, { text: hindiOver }), 413, 'message_too_large');
    expect((await http.put<ChatMessage>(`/chat/${chatId}/messages/${target}`, { text: NAMASTE })).body.text).toBe(NAMASTE);
    expect((await messagesOf(http, chatId)).map((m) => m.text)).toEqual([atLimit, NAMASTE]);
    expect((await generationJobs(cluster)).filter((job) => job.chatId === chatId)).toEqual([]);
  });

  it('POST /chat/:chatId/messages with generate: true starts an answer that is stored complete', async () => {
    const chatId = await http.createChat('u-gen');
    const sse = await SseChatClient.connect(cluster.api(0), chatId);
    try {
      const posted = await http.post<ChatMessage & { generationId: string }>(`/chat/${chatId}/messages`, {
        role: 'user',
        text: 'What is RagStream?',
        userId: 'u-gen',
        generate: true,
        timezone: 'UTC',
        selectedLanguage: 'en',
      });
      expect(posted.status).toBe(201);
      expect(posted.body).toMatchObject({ chatId, role: 'user', text: 'What is RagStream?' });
      expect(posted.body.generationId).toEqual(expect.any(String));
      const generationId = posted.body.generationId;

      const done = await sse.collector.waitForTerminal(generationId);
      expect(done.status).toBe('complete');
      expect(done.text).toBe(syntheticAnswer(TOKENS));
      const typing = sse.collector.ofGeneration(generationId)[0];
      expect(typing).toMatchObject({ mt: 'typing_indicator', seq: 1, attempt: 1, replyTo: posted.body.id });

      const messages = await messagesOf(http, chatId);
      expect(messages.map((m) => [m.role, m.text, m.status ?? null])).toEqual([
        ['user', 'What is RagStream?', null],
        ['bot', syntheticAnswer(TOKENS), 'complete'],
      ]);
      expect(messages[0]?.id).toBe(posted.body.id);
      expect(messages[1]).toMatchObject({ id: done.messageId, generationId, sources: [] });

      const status = await http.get<ChatStatus>(`/chat/ws/${chatId}/status`);
      expect(status).toEqual({ status: 200, body: { chatId, connections: 1, generating: null } });
    } finally {
      await sse.close();
    }
  });

  it('is idempotent by clientMessageId: the resend gets 200 with the same id, one message, one answer', async () => {
    const chatId = await http.createChat('u-idem');
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    try {
      const body = { text: 'Only once, please', userId: 'u-idem', generate: true, clientMessageId: 'client-msg-1' };
      const first = await http.post<ChatMessage & { generationId: string }>(`/chat/${chatId}/messages`, body);
      const resend = await http.post<ChatMessage & { generationId: string }>(`/chat/${chatId}/messages`, body);
      expect(first.status).toBe(201);
      expect(resend.status).toBe(200);
      expect(resend.body.id).toBe(first.body.id);
      expect(resend.body.generationId).toBe(first.body.generationId);
      expect(first.body.clientMessageId).toBe('client-msg-1');
      expect(await messagesOf(http, chatId)).toHaveLength(1);

      const done = await ws.collector.waitForTerminal(first.body.generationId);
      expect(done.status).toBe('complete');
      // A resend after the answer finished must not start it again either.
      const late = await http.post<ChatMessage & { generationId: string }>(`/chat/${chatId}/messages`, body);
      expect(late.status).toBe(200);
      expect(late.body.id).toBe(first.body.id);
      // The same client message id with other text is a conflict, not a resend.
      const clash = await http.post<{ code: string }>(`/chat/${chatId}/messages`, { ...body, text: 'Something else entirely' });
      expect(clash).toMatchObject({ status: 409, body: { code: 'conflict' } });

      // A later, different message is answered next: had a duplicate answer been queued, its frames would come first.
      const next = await http.post<ChatMessage & { generationId: string }>(`/chat/${chatId}/messages`, {
        text: 'And now something else',
        userId: 'u-idem',
        generate: true,
        clientMessageId: 'client-msg-2',
      });
      expect(next.status).toBe(201);
      await ws.collector.waitForTerminal(next.body.generationId);

      const generationFrames = ws.frames.filter((f): f is Extract<ServerFrame, { seq: number }> => 'seq' in f);
      const summary = generationFrames.filter((f) => f.mt !== 'chat_message_bot_partial').map((f) => [f.generationId, f.mt, f.attempt]);
      expect(summary).toEqual([
        [first.body.generationId, 'typing_indicator', 1],
        [first.body.generationId, 'chat_message_bot_complete', 1],
        [next.body.generationId, 'typing_indicator', 1],
        [next.body.generationId, 'chat_message_bot_complete', 1],
      ]);
      // Two identical requests at once: one creates, the other finds it.
      const racing = await Promise.all(
        [1, 2].map(() => http.post<ChatMessage>(`/chat/${chatId}/messages`, { text: 'Racing', clientMessageId: 'client-msg-3' })),
      );
      expect(racing.map((r) => r.status).sort()).toEqual([200, 201]);
      expect(racing[0]?.body.id).toBe(racing[1]?.body.id);

      const messages = await messagesOf(http, chatId);
      expect(messages.map((m) => [m.role, m.text])).toEqual([
        ['user', 'Only once, please'],
        ['bot', syntheticAnswer(TOKENS)],
        ['user', 'And now something else'],
        ['bot', syntheticAnswer(TOKENS)],
        ['user', 'Racing'],
      ]);
      expect(
        (await generationJobs(cluster))
          .filter((job) => job.chatId === chatId)
          .map((job) => job.id)
          .sort(),
      ).toEqual([first.body.generationId, next.body.generationId].sort());
    } finally {
      await ws.close();
    }
  });

  it('serves /healthz and /readyz on an API node', async () => {
    const health = await http.get('/healthz');
    expect(health).toEqual({ status: 200, body: { status: 'ok' } });
    const ready = await http.get('/readyz');
    expect(ready).toEqual({ status: 200, body: { status: 'ready', checks: { redis: 'ok', store: 'ok' } } });
  });

  it('serves /healthz and /readyz on a worker started with WORKER_HTTP_PORT', async () => {
    const port = await freePort();
    const worker = await cluster.addWorker({ WORKER_HTTP_PORT: String(port) });
    try {
      const workerHttp = new HttpClient(`http://127.0.0.1:${port}`);
      expect(await workerHttp.get('/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
      expect(await workerHttp.get('/readyz')).toEqual({ status: 200, body: { status: 'ready', checks: { redis: 'ok', store: 'ok' } } });
    } finally {
      await worker.stop();
    }
  });
});

describe('REST API on 2 API nodes and 1 worker (slow synthetic answers)', () => {
  const TOKENS = 400;
  let cluster: TestCluster;
  let a: HttpClient;
  let b: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 2,
      env: {
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: String(TOKENS),
        SYNTHETIC_TOKENS_PER_SECOND: '20',
        MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
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

  it('GET /chat/ws/:chatId/status counts connections on every node and reports the running answer; POST stop stops it', async () => {
    const chatId = await a.createChat('u-status');
    const idle = await a.get<ChatStatus>(`/chat/ws/${chatId}/status`);
    expect(idle).toEqual({ status: 200, body: { chatId, connections: 0, generating: null } });

    // A WebSocket client on node B; its confirm proves the connection is registered.
    const ws = await WsChatClient.connect(cluster.api(1), chatId);
    let sse: SseChatClient | undefined;
    try {
      ws.send({ mt: 'message_upload', message: 'Tell me a long story', userId: 'u-status' });
      const confirm = await ws.collector.waitForMt('message_upload_confirm');
      const generationId = confirm.generationId ?? '';
      await ws.collector.waitForMt('chat_message_bot_partial', (f) => f.seq >= 3);

      const running = await a.get<ChatStatus>(`/chat/ws/${chatId}/status`);
      expect(running.status).toBe(200);
      expect(Object.keys(running.body).sort()).toEqual(['chatId', 'connections', 'generating']);
      expect(running.body.chatId).toBe(chatId);
      expect(running.body.connections).toBe(1);
      expect(running.body.generating).toMatchObject({ generationId, attempt: 1 });
      expect(running.body.generating?.seq).toBeGreaterThanOrEqual(3);

      sse = await SseChatClient.connect(cluster.api(0), chatId);
      expect((await b.get<ChatStatus>(`/chat/ws/${chatId}/status`)).body.connections).toBe(2);

      const stop = await a.post<{ chatId: string; stopped: string[] }>(`/chat/${chatId}/stop`);
      expect(stop).toEqual({ status: 200, body: { chatId, stopped: [generationId] } });
      const done = await ws.collector.waitForTerminal(generationId);
      const sseDone = await sse.collector.waitForTerminal(generationId);
      expect(done.status).toBe('stopped');
      expect(sseDone).toEqual(done);
      expect(done.text.length).toBeGreaterThan(0);
      expect(done.text.length).toBeLessThan(syntheticAnswer(TOKENS).length);
      expect(syntheticAnswer(TOKENS).startsWith(done.text)).toBe(true);
      expect(ws.collector.textOf(generationId)).toBe(done.text);

      const messages = await b.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
      expect(messages.body.items.map((m) => [m.role, m.status ?? null])).toEqual([
        ['user', null],
        ['bot', 'stopped'],
      ]);
      expect(messages.body.items[1]).toMatchObject({ id: done.messageId, text: done.text, generationId });

      const after = await a.get<ChatStatus>(`/chat/ws/${chatId}/status`);
      expect(after.body).toEqual({ chatId, connections: 2, generating: null });
      expect(await a.post(`/chat/${chatId}/stop`)).toEqual({ status: 200, body: { chatId, stopped: [] } });

      await ws.close();
      await eventually(
        () => a.get<ChatStatus>(`/chat/ws/${chatId}/status`),
        (s) => s.body.connections === 1,
      );
      await sse.close();
      sse = undefined;
      await eventually(
        () => b.get<ChatStatus>(`/chat/ws/${chatId}/status`),
        (s) => s.body.connections === 0,
      );
    } finally {
      await ws.close();
      await sse?.close();
    }
  });

  it('DELETE /chat/:chatId deletes its messages and stops its running answer', async () => {
    const chatId = await a.createChat('u-delete');
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    try {
      await a.post(`/chat/${chatId}/messages`, { text: 'kept until the chat goes' });
      const posted = await b.post<ChatMessage & { generationId: string }>(`/chat/${chatId}/messages`, {
        text: 'A long answer, please',
        userId: 'u-delete',
        generate: true,
      });
      expect(posted.status).toBe(201);
      const generationId = posted.body.generationId;
      await ws.collector.waitForMt('chat_message_bot_partial', (f) => f.generationId === generationId && f.seq >= 3);

      expect((await b.delete(`/chat/${chatId}`)).status).toBe(204);
      const done = await ws.collector.waitForTerminal(generationId, 10_000);
      expect(done.status).toBe('stopped');
      expect(done.text.length).toBeLessThan(syntheticAnswer(TOKENS).length);

      expectError(await a.get(`/chat/${chatId}`), 404, 'chat_not_found');
      expectError(await a.get(`/chat/${chatId}/messages`), 404, 'chat_not_found');
      expectError(await b.get(`/chat/ws/${chatId}/status`), 404, 'chat_not_found');
      const store = await openStore(cluster);
      try {
        // Neither the user's messages nor the partial answer outlive the chat.
        expect((await store.listMessages(chatId, { limit: 10 })).items).toEqual([]);
        expect(await store.findBotMessageByGeneration(generationId)).toBeNull();
      } finally {
        await store.close();
      }

      // The worker is free again: another chat's answer starts at once.
      const other = await a.createChat('u-delete');
      const otherWs = await WsChatClient.connect(cluster.api(1), other);
      try {
        otherWs.send({ mt: 'message_upload', message: 'still there?', userId: 'u-delete' });
        await otherWs.collector.waitForMt('chat_message_bot_partial', () => true, 10_000);
        expect((await a.post<{ stopped: string[] }>(`/chat/${other}/stop`)).body.stopped).toHaveLength(1);
        await otherWs.collector.waitForMt('chat_message_bot_complete', () => true, 10_000);
      } finally {
        await otherWs.close();
      }
    } finally {
      await ws.close();
    }
  });
});
