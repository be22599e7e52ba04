import { request } from 'node:http';
import { connect } from 'node:net';
import { syntheticAnswer } from '@ragstream/rag';
import { HttpClient, SioChatClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { UNKNOWN_ID } from './helpers.ts';

const TOKENS = 10;
/** Each secret is unique, so that finding it anywhere in a log names where it came from. */
const SECRETS = {
  OPENAI_API_KEY: 'sk-openai-secret-0001',
  ADMIN_TOKEN: 'admin-secret-token-0002',
  METRICS_TOKEN: 'metrics-secret-0003',
  bearer: 'bearer-secret-0004',
  cookie: 'cookie-secret-0005',
  wsToken: 'ws-query-secret-0006',
  sseToken: 'sse-query-secret-0007',
  sioToken: 'sio-auth-secret-0008',
  refusedWsToken: 'refused-ws-secret-0009',
  refusedSseToken: 'refused-sse-secret-0010',
};

/** Signs of a stack trace or an internal error text in what a client received. */
const LEAKS = [/\n\s+at /, /\.ts:\d+/, /node_modules/, /\/work\//, /\b(TypeError|RangeError|ReferenceError|SyntaxError):/];

function expectNoLeak(label: string, text: string): void {
  for (const leak of LEAKS) expect({ label, leak: leak.source, found: leak.test(text) }).toMatchObject({ found: false });
}

interface RawResponse {
  status: number;
  text: string;
}

/** A request with exactly these headers and path (fetch would normalise a malformed path). */
function raw(baseUrl: string, method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<RawResponse> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const req = request({ hostname, port, method, path, headers }, (res) => {
      let text = JSON.stringify(res.headers);
      // An event stream does not end by itself: its head is what there is to see.
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        resolve({ status: res.statusCode ?? 0, text });
        req.destroy();
        return;
      }
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A WebSocket upgrade written by hand, so that the path reaches the node exactly as given; resolves with what came back. */
function rawUpgrade(baseUrl: string, path: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(
        `GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
      );
    });
    let received = '';
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
    });
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(received));
    setTimeout(() => socket.destroy(), 2_000);
  });
}

describe('no secret in the logs, no stack trace to clients (LOG_LEVEL=debug)', () => {
  let cluster: TestCluster;
  let http: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: {
        LOG_LEVEL: 'debug',
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: String(TOKENS),
        SYNTHETIC_TOKENS_PER_SECOND: '200',
        OPENAI_API_KEY: SECRETS.OPENAI_API_KEY,
        ADMIN_TOKEN: SECRETS.ADMIN_TOKEN,
        METRICS_TOKEN: SECRETS.METRICS_TOKEN,
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

  it('requests that carry every kind of credential leave none of them in any process log', async () => {
    const base = cluster.api(0);
    const chatId = await http.createChat('u-secrets');
    const auth = { authorization: `Bearer ${SECRETS.bearer}`, cookie: `ragstream_admin=${SECRETS.cookie}` };

    // REST with a bearer token and a cookie, answered and refused.
    expect((await raw(base, 'GET', `/chat/${chatId}`, auth)).status).toBe(200);
    expect((await raw(base, 'GET', `/chat/${UNKNOWN_ID}?token=${SECRETS.bearer}`, auth)).status).toBe(404);
    expect((await raw(base, 'GET', '/metrics', { authorization: `Bearer ${SECRETS.METRICS_TOKEN}` })).status).toBe(200);
    const login = await raw(
      base,
      'POST',
      '/admin/login',
      { 'content-type': 'application/x-www-form-urlencoded' },
      `token=${SECRETS.ADMIN_TOKEN}`,
    );
    expect(login.status).toBe(303);
    expect((await raw(base, 'GET', '/admin/queues/api/queues', { authorization: `Bearer ${SECRETS.ADMIN_TOKEN}` })).status).toBe(200);

    // Tokens in the query of the WebSocket and SSE URLs and in the Socket.IO handshake, for a chat that exists and one that does not.
    const ws = await WsChatClient.connect(base, chatId, { token: SECRETS.wsToken });
    const sseWithToken = await fetch(`${base}/chat/${chatId}/events?token=${SECRETS.sseToken}`, {
      headers: { authorization: `Bearer ${SECRETS.bearer}` },
    });
    expect(sseWithToken.status).toBe(200);
    await sseWithToken.body?.cancel();
    const sio = await SioChatClient.connect(base, { chatId, token: SECRETS.sioToken });
    try {
      ws.send({ mt: 'message_upload', message: 'hello', userId: 'u-secrets', clientMessageId: 'c1' });
      const confirm = await ws.collector.waitForMt('message_upload_confirm');
      expect((await ws.collector.waitForTerminal(confirm.generationId ?? '')).text).toBe(syntheticAnswer(TOKENS));
    } finally {
      sio.close();
      await ws.close();
    }
    const refusedWs = await WsChatClient.connect(base, UNKNOWN_ID, { token: SECRETS.refusedWsToken });
    expect((await refusedWs.closed).code).toBe(4404);
    expect((await raw(base, 'GET', `/chat/${UNKNOWN_ID}/events?token=${SECRETS.refusedSseToken}`)).status).toBe(404);

    // The refusals were logged with their URL, less the token.
    const apiLogs = cluster.apis[0]?.logs ?? '';
    expect(apiLogs).toContain(`/chat/ws/${UNKNOWN_ID}?token=[Redacted]`);
    expect(apiLogs).toContain(`/chat/${UNKNOWN_ID}/events?token=[Redacted]`);
    const logs = cluster.logs();
    for (const [name, secret] of Object.entries(SECRETS)) expect({ name, logged: logs.includes(secret) }).toEqual({ name, logged: false });
  });

  it('malformed and failing requests on every transport get a code and a message, never a stack trace', async () => {
    const base = cluster.api(0);
    const chatId = await http.createChat('u-errors');
    const responses: [string, RawResponse][] = [
      ['malformed escape in a path', await raw(base, 'GET', '/chat/%E0%A4%A')],
      ['malformed escape in a query', await raw(base, 'GET', `/chat/user/u?cursor=%E0%A4%A`)],
      ['invalid JSON', await raw(base, 'POST', '/chat/', { 'content-type': 'application/json' }, '{"userId":')],
      [
        'a body over the limit',
        await raw(base, 'POST', '/chat/', { 'content-type': 'application/json' }, JSON.stringify({ userId: 'x'.repeat(300 * 1024) })),
      ],
      ['a wrong content type', await raw(base, 'POST', `/chat/${chatId}/messages`, { 'content-type': 'text/plain' }, 'hello')],
      ['a JSON array body', await raw(base, 'POST', '/chat/', { 'content-type': 'application/json' }, '[1,2]')],
      ['a bad cursor', await raw(base, 'GET', `/chat/${chatId}/messages?cursor=%00%01garbage`)],
      ['an unknown route', await raw(base, 'DELETE', '/nothing/here')],
      ['a bad Last-Event-ID', await raw(base, 'GET', `/chat/${chatId}/events`, { 'last-event-id': 'no-seq-here' })],
      [
        'a document with a wrong format',
        await raw(
          base,
          'POST',
          '/organisations/000000000000000000000001/documents',
          { 'content-type': 'application/json' },
          '{"title":"t","format":"exe","content":"x"}',
        ),
      ],
      [
        'a malformed PDF',
        await raw(
          base,
          'POST',
          '/organisations/000000000000000000000001/documents?title=t',
          { 'content-type': 'application/pdf' },
          '%PDF-garbage',
        ),
      ],
      ['metrics without the token', await raw(base, 'GET', '/metrics')],
    ];
    for (const [label, response] of responses) {
      expect({ label, status: response.status >= 400 || response.status === 202 }).toEqual({ label, status: true });
      expectNoLeak(label, response.text);
    }

    // WebSocket: a malformed escape in the chat id and a broken URL are refused; the node keeps running.
    const malformed = await rawUpgrade(base, '/chat/ws/%E0%A4%A');
    expect(malformed).toContain('101 Switching Protocols');
    expect(malformed).toContain('chat_not_found');
    expectNoLeak('ws malformed escape', malformed);
    await rawUpgrade(base, '//[bad/chat/ws/x');
    expect((await http.get('/healthz')).status).toBe(200);

    // Socket.IO: handshake errors carry a code and a message only.
    const handshakes: Record<string, string>[] = [
      { chatId: UNKNOWN_ID },
      { chatId, lastSeq: 'x', generationId: 'g' },
      { userId: 'x'.repeat(500) },
    ];
    for (const auth of handshakes) {
      const err = await SioChatClient.connect(base, auth).then(
        (client) => {
          client.close();
          return undefined;
        },
        (e: Error & { data?: unknown }) => e,
      );
      expect(err).toBeDefined();
      expectNoLeak(`socket.io ${JSON.stringify(auth).slice(0, 40)}`, `${err?.message} ${JSON.stringify(err?.data)}`);
    }
    expect(cluster.apis[0]?.running).toBe(true);
  });
});
