import { Agent, request } from 'node:http';
import type { ErrorFrame } from '@ragstream/protocol';
import { TRANSPORT_MAX_FRAME_BYTES } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import type { FrameCollector } from '@ragstream/testing';
import { HttpClient, SioChatClient, sioHangUpDuringHandshake, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatStatus } from './helpers.ts';
import { eventually, expectError, generationJobs, MALFORMED_IDS, messagesOf, UNKNOWN_ID } from './helpers.ts';

const TOKENS = 12;
const MAX_MESSAGE_BYTES = 64;
/** "नमस्ते" x 4: 24 characters (under the limit) but 72 bytes of UTF-8 (over it). */
const HINDI_OVER_LIMIT = 'नमस्ते'.repeat(4);
const HUNDRED_KIB = 'x'.repeat(100 * 1024);
const THREE_HUNDRED_KIB = 'x'.repeat(300 * 1024);

type ErrorCodeName = ErrorFrame['code'];

/** Waits for the n-th error frame (1-based) a client received. */
async function nthError(collector: FrameCollector, n: number): Promise<ErrorFrame> {
  await collector.waitFor(() => collector.frames.filter((f) => f.mt === 'error').length >= n, 10_000);
  const errors = collector.frames.filter((f): f is ErrorFrame => f.mt === 'error');
  const error = errors[n - 1];
  if (!error) throw new Error(`no error frame #${n}`);
  return error;
}

function errorsOf(collector: FrameCollector): ErrorFrame[] {
  return collector.frames.filter((f): f is ErrorFrame => f.mt === 'error');
}

describe('bad input over WebSocket and Socket.IO (1 API node, 1 worker)', () => {
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

  /** After the bad frames, a valid message is confirmed, answered and is all that the chat holds. */
  async function expectOnlyTheValidExchange(chatId: string, collector: FrameCollector, text: string): Promise<void> {
    const confirm = await collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === 'valid-1');
    const generationId = confirm.generationId ?? '';
    const done = await collector.waitForTerminal(generationId);
    expect(done.status).toBe('complete');
    expect(done.text).toBe(syntheticAnswer(TOKENS));
    expect(collector.frames.filter((f) => f.mt === 'message_upload_confirm')).toHaveLength(1);
    expect(new Set(collector.frames.flatMap((f) => ('generationId' in f && f.generationId ? [f.generationId] : [])))).toEqual(
      new Set([generationId]),
    );
    const messages = await messagesOf(http, chatId);
    expect(messages.map((m) => [m.id, m.role, m.text])).toEqual([
      [confirm.messageId, 'user', text],
      [done.messageId, 'bot', syntheticAnswer(TOKENS)],
    ]);
    expect((await generationJobs(cluster)).filter((job) => job.chatId === chatId).map((job) => job.id)).toEqual([generationId]);
  }

  it('WebSocket: every bad frame gets its error frame, the socket stays usable, nothing is stored', async () => {
    const chatId = await http.createChat('u-bad-ws');
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    try {
      const bad: [string, unknown, ErrorCodeName, string?][] = [
        ['malformed JSON', '{"mt": "message_upload", "message": ', 'invalid_json'],
        ['plain text', 'Hello!', 'invalid_json'],
        ['a JSON array', '[{"mt":"message_upload"}]', 'invalid_frame'],
        ['a JSON string', '"message_upload"', 'invalid_frame'],
        ['JSON null', 'null', 'invalid_frame'],
        [
          'unknown mt',
          { mt: 'delete_everything', message: 'hi', userId: 'u', clientMessageId: 'c-unknown' },
          'unknown_message_type',
          'c-unknown',
        ],
        ['no mt', { message: 'hi', userId: 'u' }, 'unknown_message_type'],
        ['mt as number', { mt: 7, message: 'hi', userId: 'u' }, 'unknown_message_type'],
        ['missing message', { mt: 'message_upload', userId: 'u', clientMessageId: 'c-missing' }, 'invalid_frame', 'c-missing'],
        ['missing userId', { mt: 'message_upload', message: 'hi' }, 'invalid_frame'],
        ['userId as number', { mt: 'message_upload', message: 'hi', userId: 123 }, 'invalid_frame'],
        ['message as object', { mt: 'message_upload', message: { text: 'hi' }, userId: 'u' }, 'invalid_frame'],
        ['message as number', { mt: 'message_upload', message: 42, userId: 'u' }, 'invalid_frame'],
        ['empty message', { mt: 'message_upload', message: '', userId: 'u' }, 'invalid_frame'],
        ['timezone as number', { mt: 'message_upload', message: 'hi', userId: 'u', timezone: 5 }, 'invalid_frame'],
        [
          'Hindi message over the byte limit',
          { mt: 'message_upload', message: HINDI_OVER_LIMIT, userId: 'u', clientMessageId: 'c-big' },
          'message_too_large',
          'c-big',
        ],
        ['100 KiB message', { mt: 'message_upload', message: HUNDRED_KIB, userId: 'u' }, 'message_too_large'],
      ];
      for (const [index, [label, frame, code, clientMessageId]] of bad.entries()) {
        ws.send(frame);
        const error = await nthError(ws.collector, index + 1);
        expect({ label, code: error.code }).toEqual({ label, code });
        expect(error.message.length).toBeGreaterThan(0);
        expect(error.clientMessageId).toBe(clientMessageId);
        expect(ws.isOpen).toBe(true);
      }

      ws.send({ mt: 'message_upload', message: 'नमस्ते, a valid question', userId: 'u-bad-ws', clientMessageId: 'valid-1' });
      await expectOnlyTheValidExchange(chatId, ws.collector, 'नमस्ते, a valid question');
      expect(errorsOf(ws.collector)).toHaveLength(bad.length);
      expect(ws.isOpen).toBe(true);
    } finally {
      await ws.close();
    }
  });

  it('Socket.IO: every bad event gets an error event, the socket stays connected, nothing is stored', async () => {
    const chatId = await http.createChat('u-bad-sio');
    const client = await SioChatClient.connect(cluster.api(0), { chatId });
    const events: string[] = [];
    client.socket.onAny((event: string) => events.push(event));
    try {
      const bad: [string, () => void, ErrorCodeName, string?][] = [
        ['malformed JSON text via send', () => client.socket.send('{"mt": "message_upload", '), 'invalid_json'],
        [
          'an unknown event',
          () => client.emit('delete_everything', { message: 'hi', userId: 'u', clientMessageId: 'c-unknown' }),
          'unknown_message_type',
          'c-unknown',
        ],
        ['an unknown mt via send', () => client.socket.send({ mt: 'bogus', message: 'hi', userId: 'u' }), 'unknown_message_type'],
        ['a frame without mt via send', () => client.socket.send({ message: 'hi', userId: 'u' }), 'unknown_message_type'],
        ['message_upload without payload', () => client.emit('message_upload'), 'invalid_frame'],
        ['message_upload with a number payload', () => client.emit('message_upload', 42), 'invalid_frame'],
        [
          'missing message',
          () => client.emit('message_upload', { userId: 'u', clientMessageId: 'c-missing' }),
          'invalid_frame',
          'c-missing',
        ],
        ['userId as number', () => client.emit('message_upload', { message: 'hi', userId: 123 }), 'invalid_frame'],
        ['message as object', () => client.emit('message_upload', { message: { text: 'hi' }, userId: 'u' }), 'invalid_frame'],
        ['empty message', () => client.emit('message_upload', { message: '', userId: 'u' }), 'invalid_frame'],
        [
          'Hindi message over the byte limit',
          () => client.emit('message_upload', { message: HINDI_OVER_LIMIT, userId: 'u', clientMessageId: 'c-big' }),
          'message_too_large',
          'c-big',
        ],
        ['100 KiB message', () => client.emit('message_upload', { message: HUNDRED_KIB, userId: 'u' }), 'message_too_large'],
      ];
      for (const [index, [label, send, code, clientMessageId]] of bad.entries()) {
        send();
        const error = await nthError(client.collector, index + 1);
        expect({ label, code: error.code }).toEqual({ label, code });
        expect(error.clientMessageId).toBe(clientMessageId);
        expect(client.socket.connected).toBe(true);
      }
      expect(events).toEqual(bad.map(() => 'error'));

      client.emit('message_upload', { message: 'a valid question', userId: 'u-bad-sio', clientMessageId: 'valid-1' });
      await expectOnlyTheValidExchange(chatId, client.collector, 'a valid question');
      expect(errorsOf(client.collector)).toHaveLength(bad.length);
      expect(client.socket.connected).toBe(true);
    } finally {
      client.close();
    }
  });

  it('WebSocket: a frame over the transport limit closes the socket with 1009; the node keeps serving', async () => {
    expect(THREE_HUNDRED_KIB.length).toBeGreaterThan(TRANSPORT_MAX_FRAME_BYTES);
    const chatId = await http.createChat('u-huge-ws');
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    // A confirmed message first, so that the connection is fully open on the server.
    ws.send({ mt: 'message_upload', message: 'first', userId: 'u' });
    await ws.collector.waitForMt('message_upload_confirm');
    ws.send({ mt: 'message_upload', message: THREE_HUNDRED_KIB, userId: 'u' });
    const closed = await ws.closed;
    expect(closed.code).toBe(1009);
    expect(errorsOf(ws.collector)).toEqual([]);

    // Sent the moment the socket opens, before the server has looked the chat up.
    const early = await WsChatClient.connect(cluster.api(0), chatId);
    early.send({ mt: 'message_upload', message: THREE_HUNDRED_KIB, userId: 'u' });
    expect((await early.closed).code).toBe(1009);

    expect((await http.get('/healthz')).status).toBe(200);
    const after = await WsChatClient.connect(cluster.api(0), chatId);
    try {
      after.send({ mt: 'message_upload', message: 'still here?', userId: 'u', clientMessageId: 'after' });
      const confirm = await after.collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === 'after');
      await after.collector.waitForTerminal(confirm.generationId ?? '');
    } finally {
      await after.close();
    }
    const texts = (await messagesOf(http, chatId)).filter((m) => m.role === 'user').map((m) => m.text);
    expect(texts).toEqual(['first', 'still here?']);
    // No closed socket is left counting as a connection.
    await eventually(
      () => http.get<ChatStatus>(`/chat/ws/${chatId}/status`),
      (s) => s.body.connections === 0,
    );
  });

  it('Socket.IO: a packet over the transport limit disconnects the client', async () => {
    const chatId = await http.createChat('u-huge-sio');
    const client = await SioChatClient.connect(cluster.api(0), { chatId });
    const disconnected = new Promise<string>((resolve) => client.socket.once('disconnect', (reason) => resolve(reason)));
    client.emit('message_upload', { message: 'first', userId: 'u', clientMessageId: 'first' });
    await client.collector.waitForMt('message_upload_confirm');
    client.emit('message_upload', { message: THREE_HUNDRED_KIB, userId: 'u' });
    expect(await disconnected).toBe('transport close');
    expect(errorsOf(client.collector)).toEqual([]);

    const again = await SioChatClient.connect(cluster.api(0), { chatId });
    try {
      again.emit('message_upload', { message: 'still here?', userId: 'u', clientMessageId: 'after' });
      const confirm = await again.collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === 'after');
      await again.collector.waitForTerminal(confirm.generationId ?? '');
    } finally {
      again.close();
    }
    const texts = (await messagesOf(http, chatId)).filter((m) => m.role === 'user').map((m) => m.text);
    expect(texts).toEqual(['first', 'still here?']);
    await eventually(
      () => http.get<ChatStatus>(`/chat/ws/${chatId}/status`),
      (s) => s.body.connections === 0,
    );
  });

  it('REST: a body over the 256 KiB limit gets 413 message_too_large on a connection that keeps serving; nothing is stored', async () => {
    const chatId = await http.createChat('u-huge-rest');
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    const send = (
      method: string,
      path: string,
      body?: string,
      contentType = 'application/json',
    ): Promise<{ status: number; body: string }> =>
      new Promise((resolve, reject) => {
        const req = request(new URL(path, cluster.api(0)), { method, agent, headers: { 'content-type': contentType } }, (res) => {
          sockets.add(res.socket);
          let text = '';
          res.on('data', (chunk: Buffer) => {
            text += chunk.toString();
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        });
        req.on('error', reject);
        req.end(body);
      });
    try {
      const huge = JSON.stringify({ text: THREE_HUNDRED_KIB, role: 'user' });
      for (const [method, path, body] of [
        ['POST', `/chat/${chatId}/messages`, huge],
        ['POST', '/chat/', JSON.stringify({ userId: 'u-huge-rest', title: THREE_HUNDRED_KIB })],
        ['PUT', `/chat/${chatId}`, JSON.stringify({ title: THREE_HUNDRED_KIB })],
      ] as const) {
        const refused = await send(method, path, body);
        expect({ path, status: refused.status }).toEqual({ path, status: 413 });
        expect(JSON.parse(refused.body)).toEqual({ code: 'message_too_large', message: 'request body is too large' });
        // The same client goes on: its next request on the keep-alive agent is served.
        expect((await send('GET', `/chat/${chatId}`)).status).toBe(200);
      }
      // A document has its own, larger limit (5 MiB), with the same answer past it.
      const document = await send(
        'POST',
        '/organisations/000000000000000000000001/documents?title=big',
        'x'.repeat(6 * 1024 * 1024),
        'text/plain',
      );
      expect(document.status).toBe(413);
      expect(JSON.parse(document.body)).toMatchObject({ code: 'message_too_large' });
      const posted = await send('POST', `/chat/${chatId}/messages`, JSON.stringify({ text: 'small enough' }));
      expect(posted.status).toBe(201);
    } finally {
      agent.destroy();
    }
    // Every request, refused or not, went over the one keep-alive connection.
    expect(sockets.size).toBe(1);
    expect((await messagesOf(http, chatId)).map((m) => m.text)).toEqual(['small enough']);
    expect((await http.get<{ title: string }>(`/chat/${chatId}`)).body.title).toBe('New chat');
  });

  it('Socket.IO: clients that hang up during the handshake are not left counted as connected', async () => {
    const chatId = await http.createChat('u-hangup');
    // Each client closes its transport right after sending its CONNECT packet, while the server still opens the chat.
    for (let i = 0; i < 5; i += 1) await sioHangUpDuringHandshake(cluster.api(0), { chatId });
    // A well-behaved client, connected after them: once it has been answered, their handshakes are long done.
    const client = await SioChatClient.connect(cluster.api(0), { chatId });
    client.emit('message_upload', { message: 'anyone else here?', userId: 'u', clientMessageId: 'marker' });
    const confirm = await client.collector.waitForMt('message_upload_confirm');
    await client.collector.waitForTerminal(confirm.generationId ?? '');
    expect((await http.get<ChatStatus>(`/chat/ws/${chatId}/status`)).body.connections).toBeGreaterThanOrEqual(1);
    client.close();
    await eventually(
      () => http.get<ChatStatus>(`/chat/ws/${chatId}/status`),
      (s) => s.body.connections === 0,
    );
  });

  it('unknown and malformed chat ids: WS error frame then close 4404, Socket.IO connect_error, SSE 404', async () => {
    for (const chatId of [UNKNOWN_ID, ...MALFORMED_IDS]) {
      const ws = await WsChatClient.connect(cluster.api(0), chatId);
      const closed = await ws.closed;
      expect({ chatId, code: closed.code }).toEqual({ chatId, code: 4404 });
      expect(ws.frames).toHaveLength(1);
      expect(ws.frames[0]).toMatchObject({ mt: 'error', code: 'chat_not_found' });

      const sioError = await SioChatClient.connect(cluster.api(0), { chatId }).then(
        (client) => {
          client.close();
          return undefined;
        },
        (err: Error & { data?: { code?: string; message?: string } }) => err,
      );
      expect(sioError?.data).toMatchObject({ code: 'chat_not_found' });
      expect(typeof sioError?.data?.message).toBe('string');

      expectError(await http.get(`/chat/${chatId}/events`), 404, 'chat_not_found');
    }
    const noChat = await SioChatClient.connect(cluster.api(0), {}).then(
      () => undefined,
      (err: Error & { data?: { code?: string } }) => err,
    );
    expect(noChat?.data?.code).toBe('chat_not_found');
    expect((await http.get(`/chat/ws/${UNKNOWN_ID}/status`)).status).toBe(404);
  });

  it('invalid resume parameters: WS error frame invalid_query then close 4400, Socket.IO connect_error, SSE 400', async () => {
    const chatId = await http.createChat('u-resume');
    for (const lastSeq of ['abc', '-1', '1.5']) {
      const ws = await WsChatClient.connect(cluster.api(0), chatId, { generationId: 'gen-x', lastSeq });
      const closed = await ws.closed;
      expect({ lastSeq, code: closed.code }).toEqual({ lastSeq, code: 4400 });
      expect(ws.frames).toHaveLength(1);
      expect(ws.frames[0]).toMatchObject({ mt: 'error', code: 'invalid_query' });

      const sioError = await SioChatClient.connect(cluster.api(0), { chatId, generationId: 'gen-x', lastSeq }).then(
        (client) => {
          client.close();
          return undefined;
        },
        (err: Error & { data?: { code?: string } }) => err,
      );
      expect(sioError?.data?.code).toBe('invalid_query');
    }
    for (const lastEventId of ['garbage', 'gen-x:abc', ':5', 'gen-x:-2']) {
      const response = await fetch(`${cluster.api(0)}/chat/${chatId}/events`, { headers: { 'last-event-id': lastEventId } });
      expect({ lastEventId, status: response.status }).toEqual({ lastEventId, status: 400 });
      expect(await response.json()).toMatchObject({ code: 'invalid_query' });
    }
    // None of the refused connections counts as present.
    expect((await http.get(`/chat/ws/${chatId}/status`)).body).toEqual({ chatId, connections: 0, generating: null });
  });
});
