import { request } from 'node:http';
import type { ServerFrame } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import type { ManagedProcess } from '@ragstream/testing';
import { FrameCollector, HttpClient, TestCluster } from '@ragstream/testing';
import type { Socket } from 'socket.io-client';
import { io } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { ChatStatus } from './helpers.ts';
import { eventually, messagesOf } from './helpers.ts';

/**
 * About 8 MB of answer text, streamed as fast as the worker can: a client that reads nothing
 * fills the loopback's socket buffers (about 4 MB) and then the node's, long before the end.
 */
const TOKENS = 600_000;
const MAX_BUFFERED_BYTES = 64 * 1024;
const EXPECTED = syntheticAnswer(TOKENS);

/** A client that can stop reading its socket, and read again. */
interface PausingClient {
  collector: FrameCollector;
  pause(): void;
  resume(): void;
  /** Resolves when the connection has ended, with how the server ended it. */
  ended: Promise<string>;
  close(): void;
}

function wsClient(baseUrl: string, chatId: string, query: Record<string, string> = {}): Promise<PausingClient> {
  const url = new URL(`/chat/ws/${chatId}`, baseUrl.replace(/^http/, 'ws'));
  for (const [key, value] of Object.entries(query)) url.searchParams.set(key, value);
  const ws = new WebSocket(url);
  const collector = new FrameCollector('ws');
  ws.on('message', (data) => collector.add(JSON.parse(data.toString())));
  const ended = new Promise<string>((resolve) => ws.once('close', (code, reason) => resolve(`close ${code} ${reason.toString()}`)));
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    ws.once('open', () => resolve({ collector, pause: () => ws.pause(), resume: () => ws.resume(), ended, close: () => ws.terminate() }));
  });
}

function sioClient(baseUrl: string, auth: Record<string, string | number>): Promise<PausingClient> {
  const socket: Socket = io(`${baseUrl}/chat`, { transports: ['websocket'], auth, reconnection: false, forceNew: true });
  const collector = new FrameCollector('socket.io');
  socket.onAny((_event: string, payload: unknown) => collector.add(payload));
  const ended = new Promise<string>((resolve) => socket.once('disconnect', (reason: string) => resolve(`disconnect ${reason}`)));
  // engine.io-client's WebSocket transport in Node is a `ws` WebSocket.
  const ws = (): WebSocket => (socket.io.engine.transport as unknown as { ws: WebSocket }).ws;
  return new Promise((resolve, reject) => {
    socket.once('connect_error', reject);
    socket.once('connect', () =>
      resolve({ collector, pause: () => ws().pause(), resume: () => ws().resume(), ended, close: () => socket.close() }),
    );
  });
}

/** SSE over node:http, whose response stream can be paused like any other. */
function sseClient(baseUrl: string, chatId: string, lastEventId?: string): Promise<PausingClient & { ids: string[] }> {
  const collector = new FrameCollector('sse');
  const ids: string[] = [];
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const req = request(new URL(`/chat/${chatId}/events`, baseUrl), { headers }, (res) => {
      if (res.statusCode !== 200) {
        reject(new Error(`SSE ${res.statusCode}`));
        return;
      }
      let pending = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        pending += chunk;
        let end = pending.indexOf('\n\n');
        while (end >= 0) {
          const event = pending.slice(0, end);
          pending = pending.slice(end + 2);
          end = pending.indexOf('\n\n');
          const id = /^id: (.*)$/m.exec(event)?.[1];
          const data = /^data: (.*)$/m.exec(event)?.[1];
          if (id !== undefined) ids.push(id);
          if (data !== undefined) collector.add(JSON.parse(data));
        }
      });
      const ended = new Promise<string>((done) => {
        res.once('end', () => done('end'));
        res.once('error', () => done('error'));
        res.once('aborted', () => done('aborted'));
      });
      resolve({ collector, ids, pause: () => res.pause(), resume: () => res.resume(), ended, close: () => req.destroy() });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The highest contiguous seq of a generation a client received (from 1), and its text so far. */
function received(collector: FrameCollector, generationId: string): { lastSeq: number; text: string } {
  const frames = collector.frames.filter(
    (f): f is Extract<ServerFrame, { seq: number }> => 'seq' in f && 'generationId' in f && f.generationId === generationId,
  );
  let text = '';
  frames.forEach((frame, index) => {
    expect(frame.seq).toBe(index + 1);
    if (frame.mt === 'chat_message_bot_partial') text += frame.delta;
  });
  return { lastSeq: frames.length, text };
}

// Megabytes through real processes: room for a loaded machine.
describe(`a client that stops reading is closed past MAX_BUFFERED_BYTES (${MAX_BUFFERED_BYTES}) and resumes the answer whole`, {
  timeout: 180_000,
}, () => {
  let cluster: TestCluster;
  let http: HttpClient;
  let api: ManagedProcess;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: {
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: String(TOKENS),
        SYNTHETIC_TOKENS_PER_SECOND: '0',
        MAX_BUFFERED_BYTES: String(MAX_BUFFERED_BYTES),
        // Answers far longer than any model's, so that they outgrow the buffer: not a quota matter.
        TOKEN_QUOTA_USER_DAILY: '0',
        TOKEN_QUOTA_USER_MONTHLY: '0',
        TOKEN_QUOTA_ORGANISATION_DAILY: '0',
        TOKEN_QUOTA_ORGANISATION_MONTHLY: '0',
      },
    });
    http = new HttpClient(cluster.api(0));
    const first = cluster.apis[0];
    if (!first) throw new Error('no API node');
    api = first;
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs().slice(-20_000));
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** Starts the long answer over REST, so that every transport is tested the same way. */
  async function startAnswer(chatId: string): Promise<string> {
    const posted = await http.post<{ generationId: string }>(`/chat/${chatId}/messages`, {
      role: 'user',
      text: 'Tell me everything.',
      userId: 'u-slow',
      generate: true,
    });
    expect(posted.status, JSON.stringify(posted.body)).toBe(201);
    return posted.body.generationId;
  }

  /**
   * Waits for the node's slow-consumer line about this chat, checks that it let go of the
   * connection holding at most about one frame past the limit, and returns the buffered bytes.
   */
  async function nodeClosedSlowConsumer(chatId: string, transport: string, stillConnected = 0): Promise<number> {
    const line = new RegExp(`"chatId":"${chatId}","transport":"${transport}"[^\\n]*"msg":"slow consumer: closing the connection"`);
    await api.waitForOutput(line, 60_000);
    const fields = JSON.parse(api.logs.split('\n').find((l) => line.test(l)) ?? '{}') as Record<string, number>;
    const overLimit = (fields.bufferedBytes ?? 0) - (fields.replayBacklogBytes ?? 0);
    expect(overLimit).toBeGreaterThan(MAX_BUFFERED_BYTES);
    // What the node held: the limit and at most the one frame that crossed it (frames here are tens of KiB).
    expect(fields.bufferedBytes).toBeLessThan(MAX_BUFFERED_BYTES + 512 * 1024);
    // The node let go of the stalled connection: only the others of the chat are still counted.
    await eventually(
      () => http.get<ChatStatus>(`/chat/ws/${chatId}/status`),
      (s) => s.body.connections === stillConnected,
    );
    return fields.bufferedBytes ?? 0;
  }

  /** The stored answer is the whole synthetic text. */
  async function expectStoredWhole(chatId: string): Promise<void> {
    await expect
      .poll(async () => (await messagesOf(http, chatId)).find((m) => m.role === 'bot')?.text.length, { timeout: 60_000 })
      .toBe(EXPECTED.length);
    expect((await messagesOf(http, chatId)).find((m) => m.role === 'bot')?.text).toBe(EXPECTED);
  }

  it('WebSocket: closed with 1008 and an error frame slow_consumer; a resume with lastSeq completes it; a reader beside it is not closed', async () => {
    const chatId = await http.createChat('u-slow');
    const stalled = await wsClient(cluster.api(0), chatId);
    // A client of the same chat that reads: the same 8 MB stream, live, and it keeps its connection.
    const reader = await wsClient(cluster.api(0), chatId);
    stalled.pause();
    const generationId = await startAnswer(chatId);
    await nodeClosedSlowConsumer(chatId, 'websocket', 1);

    // Read again within the grace: the backlog, then the reason, then the close.
    stalled.resume();
    expect(await stalled.ended).toMatch(/^close 1008 slow consumer/);
    expect(stalled.collector.frames.at(-1)).toMatchObject({ mt: 'error', code: 'slow_consumer' });
    const first = received(stalled.collector, generationId);
    expect(first.lastSeq).toBeGreaterThan(1);
    expect(EXPECTED.startsWith(first.text)).toBe(true);
    expect(first.text.length).toBeLessThan(EXPECTED.length);

    const resumed = await wsClient(cluster.api(0), chatId, { generationId, lastSeq: String(first.lastSeq) });
    try {
      const done = await resumed.collector.waitForTerminal(generationId, 60_000);
      const rest = resumed.collector.frames.filter((f) => 'seq' in f && f.generationId === generationId);
      expect(rest[0]).toMatchObject({ seq: first.lastSeq + 1 });
      const restText = rest.map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : '')).join('');
      expect(first.text + restText).toBe(EXPECTED);
      expect(done).toMatchObject({ status: 'complete', text: EXPECTED });
      // A late joiner gets the whole answer replayed (about twice its text) in one burst, and keeps its connection.
      const late = await wsClient(cluster.api(0), chatId, { generationId, lastSeq: '0' });
      try {
        expect((await late.collector.waitForTerminal(generationId, 60_000)).text).toBe(EXPECTED);
        expect(late.collector.frames.some((f) => f.mt === 'error')).toBe(false);
      } finally {
        late.close();
      }
      expect((await reader.collector.waitForTerminal(generationId, 60_000)).text).toBe(EXPECTED);
      expect(received(reader.collector, generationId).text).toBe(EXPECTED);
      expect(reader.collector.frames.some((f) => f.mt === 'error')).toBe(false);
    } finally {
      resumed.close();
      reader.close();
    }
    await expectStoredWhole(chatId);
    // One slow consumer in this chat: the stalled client, not the reader nor the late joiner.
    expect(api.logs.split('\n').filter((l) => l.includes(`"chatId":"${chatId}"`) && l.includes('slow consumer')).length).toBe(1);
  });

  it('Socket.IO: disconnected after an error frame slow_consumer; a resume in the handshake completes it', async () => {
    const chatId = await http.createChat('u-slow');
    const stalled = await sioClient(cluster.api(0), { chatId });
    stalled.pause();
    const generationId = await startAnswer(chatId);
    await nodeClosedSlowConsumer(chatId, 'socketio');

    stalled.resume();
    expect(await stalled.ended).toBe('disconnect io server disconnect');
    expect(stalled.collector.frames.at(-1)).toMatchObject({ mt: 'error', code: 'slow_consumer' });
    const first = received(stalled.collector, generationId);
    expect(first.lastSeq).toBeGreaterThan(1);

    const resumed = await sioClient(cluster.api(0), { chatId, generationId, lastSeq: first.lastSeq });
    try {
      const done = await resumed.collector.waitForTerminal(generationId, 60_000);
      const rest = resumed.collector.frames.filter((f) => 'seq' in f && f.generationId === generationId);
      expect(rest[0]).toMatchObject({ seq: first.lastSeq + 1 });
      const restText = rest.map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : '')).join('');
      expect(first.text + restText).toBe(EXPECTED);
      expect(done).toMatchObject({ status: 'complete', text: EXPECTED });
    } finally {
      resumed.close();
    }
    await expectStoredWhole(chatId);
  });

  it('SSE: the event stream ends after an error event slow_consumer; Last-Event-ID resumes it', async () => {
    const chatId = await http.createChat('u-slow');
    const stalled = await sseClient(cluster.api(0), chatId);
    stalled.pause();
    const generationId = await startAnswer(chatId);
    await nodeClosedSlowConsumer(chatId, 'sse');

    stalled.resume();
    expect(await stalled.ended).toBe('end');
    expect(stalled.collector.frames.at(-1)).toMatchObject({ mt: 'error', code: 'slow_consumer' });
    const first = received(stalled.collector, generationId);
    expect(first.lastSeq).toBeGreaterThan(1);
    const lastEventId = stalled.ids.at(-1);
    expect(lastEventId).toBe(`${generationId}:${first.lastSeq}`);

    const resumed = await sseClient(cluster.api(0), chatId, lastEventId);
    try {
      const done = await resumed.collector.waitForTerminal(generationId, 60_000);
      const rest = resumed.collector.frames.filter((f) => 'seq' in f && f.generationId === generationId);
      expect(rest[0]).toMatchObject({ seq: first.lastSeq + 1 });
      const restText = rest.map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : '')).join('');
      expect(first.text + restText).toBe(EXPECTED);
      expect(done).toMatchObject({ status: 'complete', text: EXPECTED });
    } finally {
      resumed.close();
    }
    await expectStoredWhole(chatId);
  });
});
