import type { BotCompleteFrame, GenerationFrame, ServerFrame } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import type { FrameCollector } from '@ragstream/testing';
import { HttpClient, SioChatClient, SseChatClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage } from './helpers.ts';
import { HEX_ID, messagesOf } from './helpers.ts';

/** Slow enough (3 s per answer) that tests can stop, drop and resume connections mid-answer. */
const TOKENS = 120;
const TOKENS_PER_SECOND = 40;
const ANSWER = syntheticAnswer(TOKENS);

/** The seed's JavaScript example frame. */
const SEED_FRAME = { mt: 'message_upload', message: 'Hello!', userId: '123', timezone: 'UTC', selectedLanguage: 'en' } as const;

function generationFrames(collector: FrameCollector, generationId: string): GenerationFrame[] {
  return collector.ofGeneration(generationId) as GenerationFrame[];
}

function seqs(frames: { seq: number }[]): number[] {
  return frames.map((f) => f.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

/** One complete generation as a client saw it: typing first, contiguous seqs, deltas adding up to the terminal text. */
function expectWholeGeneration(frames: GenerationFrame[], done: BotCompleteFrame, firstSeq = 1): void {
  expect(frames[0]).toMatchObject({ mt: 'typing_indicator', seq: firstSeq, attempt: 1 });
  expect(seqs(frames)).toEqual(range(firstSeq, done.seq));
  expect(frames.at(-1)).toEqual(done);
  expect(frames.slice(1, -1).every((f) => f.mt === 'chat_message_bot_partial')).toBe(true);
  const text = frames.map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : '')).join('');
  expect(text).toBe(done.text);
}

function deltas(frames: GenerationFrame[]): string {
  return frames.map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : '')).join('');
}

describe('one conversation over each transport (2 API nodes, 1 worker)', () => {
  let cluster: TestCluster;
  let a: HttpClient;
  let b: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 2,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: String(TOKENS_PER_SECOND) },
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

  async function storedBot(chatId: string, generationId: string): Promise<ChatMessage> {
    const bot = (await messagesOf(b, chatId)).find((m) => m.generationId === generationId);
    if (!bot) throw new Error(`no stored answer for ${generationId}`);
    return bot;
  }

  it('(a) raw WebSocket, as in the seed example: confirm, typing, partials, complete; stop stops', async () => {
    const chatId = await a.createChat('123');
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    try {
      ws.send(SEED_FRAME);
      const confirm = await ws.collector.waitForMt('message_upload_confirm');
      expect(ws.frames[0]).toBe(confirm);
      expect(confirm).toEqual({
        mt: 'message_upload_confirm',
        chatId,
        messageId: expect.stringMatching(HEX_ID),
        generationId: expect.any(String),
      });
      const generationId = confirm.generationId ?? '';
      const done = await ws.collector.waitForTerminal(generationId);
      expect(done).toMatchObject({ chatId, generationId, attempt: 1, status: 'complete', text: ANSWER, sources: [] });
      const frames = generationFrames(ws.collector, generationId);
      expectWholeGeneration(frames, done);
      expect(frames[0]).toEqual({ mt: 'typing_indicator', chatId, generationId, attempt: 1, seq: 1, replyTo: confirm.messageId });

      const stored = await messagesOf(b, chatId);
      expect(stored.map((m) => [m.id, m.role, m.text, m.status ?? null])).toEqual([
        [confirm.messageId, 'user', 'Hello!', null],
        [done.messageId, 'bot', ANSWER, 'complete'],
      ]);

      // Stop over the same socket, mid-answer.
      ws.send({ ...SEED_FRAME, message: 'Another question', clientMessageId: 'second' });
      const second = await ws.collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === 'second');
      const secondId = second.generationId ?? '';
      await ws.collector.waitForMt('chat_message_bot_partial', (f) => f.generationId === secondId && f.seq >= 3);
      ws.send({ mt: 'stop' });
      const stopped = await ws.collector.waitForTerminal(secondId);
      expect(stopped.status).toBe('stopped');
      expect(stopped.text.length).toBeLessThan(ANSWER.length);
      expect(ANSWER.startsWith(stopped.text)).toBe(true);
      expectWholeGeneration(generationFrames(ws.collector, secondId), stopped);
      expect(await storedBot(chatId, secondId)).toMatchObject({ id: stopped.messageId, text: stopped.text, status: 'stopped' });
    } finally {
      await ws.close();
    }
  });

  it('(b) Socket.IO: events named by mt carry the WebSocket payloads; emit("stop") stops', async () => {
    const chatId = await a.createChat('123');
    const client = await SioChatClient.connect(cluster.api(1), { chatId });
    const events: [string, ServerFrame][] = [];
    client.socket.onAny((event: string, payload: ServerFrame) => events.push([event, payload]));
    try {
      client.emit('message_upload', { message: SEED_FRAME.message, userId: '123', timezone: 'UTC', selectedLanguage: 'en' });
      const confirm = await client.collector.waitForMt('message_upload_confirm');
      expect(confirm).toEqual({
        mt: 'message_upload_confirm',
        chatId,
        messageId: expect.stringMatching(HEX_ID),
        generationId: expect.any(String),
      });
      const generationId = confirm.generationId ?? '';
      const done = await client.collector.waitForTerminal(generationId);
      expect(done).toMatchObject({ chatId, generationId, attempt: 1, status: 'complete', text: ANSWER, sources: [] });
      const frames = generationFrames(client.collector, generationId);
      expectWholeGeneration(frames, done);
      expect(frames[0]).toEqual({ mt: 'typing_indicator', chatId, generationId, attempt: 1, seq: 1, replyTo: confirm.messageId });

      // Every event is named after the mt of the payload it carries, in the WebSocket order.
      expect(events.every(([event, payload]) => event === payload.mt)).toBe(true);
      const names = events.map(([event]) => event);
      expect(names[0]).toBe('message_upload_confirm');
      expect(names[1]).toBe('typing_indicator');
      expect(names.at(-1)).toBe('chat_message_bot_complete');
      expect(new Set(names.slice(2, -1))).toEqual(new Set(['chat_message_bot_partial']));

      const stored = await messagesOf(a, chatId);
      expect(stored.map((m) => [m.id, m.role, m.text, m.status ?? null])).toEqual([
        [confirm.messageId, 'user', 'Hello!', null],
        [done.messageId, 'bot', ANSWER, 'complete'],
      ]);

      client.emit('message_upload', { message: 'Another question', userId: '123', clientMessageId: 'second' });
      const second = await client.collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === 'second');
      const secondId = second.generationId ?? '';
      await client.collector.waitForMt('chat_message_bot_partial', (f) => f.generationId === secondId && f.seq >= 3);
      client.emit('stop');
      const stopped = await client.collector.waitForTerminal(secondId);
      expect(stopped.status).toBe('stopped');
      expect(stopped.text.length).toBeLessThan(ANSWER.length);
      expect(ANSWER.startsWith(stopped.text)).toBe(true);
      expectWholeGeneration(generationFrames(client.collector, secondId), stopped);
      expect(await storedBot(chatId, secondId)).toMatchObject({ id: stopped.messageId, text: stopped.text, status: 'stopped' });
    } finally {
      client.close();
    }
  });

  it('(c) SSE: frames with ids <generationId>:<seq>; Last-Event-ID resumes exactly after that seq', async () => {
    const chatId = await a.createChat('123');
    const first = await SseChatClient.connect(cluster.api(0), chatId);
    let resumed: SseChatClient | undefined;
    try {
      const posted = await b.post<ChatMessage & { generationId: string }>(`/chat/${chatId}/messages`, {
        text: 'Hello!',
        userId: '123',
        generate: true,
        timezone: 'UTC',
        selectedLanguage: 'en',
      });
      expect(posted.status).toBe(201);
      const generationId = posted.body.generationId;
      await first.collector.waitForMt('chat_message_bot_partial', (f) => f.seq >= 4);
      await first.close();

      const before = generationFrames(first.collector, generationId);
      expect(first.ids).toEqual(before.map((f) => `${generationId}:${f.seq}`));
      expect(seqs(before)).toEqual(range(1, before.length));
      expect(before[0]).toMatchObject({ mt: 'typing_indicator', replyTo: posted.body.id });
      expect(before.some((f) => f.mt === 'chat_message_bot_complete')).toBe(false);
      const lastEventId = first.lastEventId ?? '';
      const lastSeq = before.at(-1)?.seq ?? 0;
      expect(lastEventId).toBe(`${generationId}:${lastSeq}`);

      // Resume on the other node.
      resumed = await SseChatClient.connect(cluster.api(1), chatId, lastEventId);
      const done = await resumed.collector.waitForTerminal(generationId);
      expect(done.status).toBe('complete');
      const after = generationFrames(resumed.collector, generationId);
      expect(seqs(after)).toEqual(range(lastSeq + 1, done.seq));
      expect(resumed.ids).toEqual(after.map((f) => `${generationId}:${f.seq}`));
      expect(after.filter((f) => f.mt === 'chat_message_bot_partial').length).toBeGreaterThan(0);
      expect([...seqs(before), ...seqs(after)]).toEqual(range(1, done.seq));

      const stored = await storedBot(chatId, generationId);
      const joined = deltas(before) + deltas(after);
      expect(Buffer.from(joined, 'utf8').equals(Buffer.from(stored.text, 'utf8'))).toBe(true);
      expect(stored.text).toBe(ANSWER);
      expect(done.text).toBe(stored.text);
      await resumed.close();
      resumed = undefined;

      // After the answer, `?lastEventId=<generationId>:0` (EventSource's reload fallback) replays it whole from the log.
      const replay = await fetchSseFrames(
        `${cluster.api(0)}/chat/${chatId}/events?lastEventId=${encodeURIComponent(`${generationId}:0`)}`,
        generationId,
      );
      expectWholeGeneration(replay, done);
    } finally {
      await first.close();
      await resumed?.close();
    }
  });

  it('(d) Socket.IO resume with auth {chatId, generationId, lastSeq} on the other API node mid-answer', async () => {
    const chatId = await a.createChat('123');
    const first = await SioChatClient.connect(cluster.api(0), { chatId });
    let resumed: SioChatClient | undefined;
    try {
      first.emit('message_upload', { message: 'Hello!', userId: '123' });
      const confirm = await first.collector.waitForMt('message_upload_confirm');
      const generationId = confirm.generationId ?? '';
      await first.collector.waitForMt('chat_message_bot_partial', (f) => f.seq >= 4);
      first.close();
      const before = generationFrames(first.collector, generationId);
      const lastSeq = before.at(-1)?.seq ?? 0;
      expect(seqs(before)).toEqual(range(1, lastSeq));
      expect(before.some((f) => f.mt === 'chat_message_bot_complete')).toBe(false);

      resumed = await SioChatClient.connect(cluster.api(1), { chatId, generationId, lastSeq });
      const done = await resumed.collector.waitForTerminal(generationId);
      expect(done.status).toBe('complete');
      const after = generationFrames(resumed.collector, generationId);
      expect(seqs(after)).toEqual(range(lastSeq + 1, done.seq));
      expect(after.filter((f) => f.mt === 'chat_message_bot_partial').length).toBeGreaterThan(0);
      expect(new Set([...seqs(before), ...seqs(after)]).size).toBe(before.length + after.length);

      const stored = await storedBot(chatId, generationId);
      const joined = deltas(before) + deltas(after);
      expect(Buffer.from(joined, 'utf8').equals(Buffer.from(stored.text, 'utf8'))).toBe(true);
      expect(stored.text).toBe(ANSWER);
    } finally {
      first.close();
      resumed?.close();
    }
  });

  it('(e) connecting without lastSeq while an answer streams replays it from the attempt start, on every transport', async () => {
    const chatId = await a.createChat('123');
    const watcher = await WsChatClient.connect(cluster.api(0), chatId);
    const late: { ws?: WsChatClient; sio?: SioChatClient; sse?: SseChatClient } = {};
    try {
      watcher.send({ mt: 'message_upload', message: 'Hello!', userId: '123' });
      const confirm = await watcher.collector.waitForMt('message_upload_confirm');
      const generationId = confirm.generationId ?? '';
      const typing = await watcher.collector.waitForMt('typing_indicator', (f) => f.generationId === generationId);
      await watcher.collector.waitForMt('chat_message_bot_partial', (f) => f.generationId === generationId && f.seq >= 3);

      late.ws = await WsChatClient.connect(cluster.api(1), chatId);
      late.sio = await SioChatClient.connect(cluster.api(1), { chatId });
      late.sse = await SseChatClient.connect(cluster.api(1), chatId);
      // All three joined before the end: the answer was still streaming.
      expect(watcher.collector.frames.some((f) => f.mt === 'chat_message_bot_complete')).toBe(false);

      const done = await watcher.collector.waitForTerminal(generationId);
      expect(done.status).toBe('complete');
      for (const [name, collector] of [
        ['ws', late.ws.collector],
        ['socket.io', late.sio.collector],
        ['sse', late.sse.collector],
      ] as const) {
        const lateDone = await collector.waitForTerminal(generationId);
        expect({ name, done: lateDone }).toEqual({ name, done });
        const frames = generationFrames(collector, generationId);
        expect({ name, first: frames[0] }).toEqual({ name, first: typing });
        expectWholeGeneration(frames, done, typing.seq);
        expect(collector.textOf(generationId)).toBe(ANSWER);
      }
      expect((await storedBot(chatId, generationId)).text).toBe(ANSWER);
    } finally {
      await watcher.close();
      await late.ws?.close();
      late.sio?.close();
      await late.sse?.close();
    }
  });
});

/** Reads an SSE response until the generation's terminal frame, returning its frames. */
async function fetchSseFrames(url: string, generationId: string): Promise<GenerationFrame[]> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal, headers: { accept: 'text/event-stream' } });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  const frames: GenerationFrame[] = [];
  const decoder = new TextDecoder();
  let buffer = '';
  const body = response.body;
  if (!body) throw new Error('no SSE body');
  try {
    for await (const chunk of body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      for (let end = buffer.indexOf('\n\n'); end >= 0; end = buffer.indexOf('\n\n')) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const id = block
          .split('\n')
          .find((line) => line.startsWith('id: '))
          ?.slice(4);
        const data = block
          .split('\n')
          .find((line) => line.startsWith('data: '))
          ?.slice(6);
        if (data === undefined) continue;
        const frame = JSON.parse(data) as GenerationFrame;
        expect(id).toBe(`${frame.generationId}:${frame.seq}`);
        frames.push(frame);
        if (frame.mt === 'chat_message_bot_complete' && frame.generationId === generationId) return frames;
      }
    }
  } finally {
    controller.abort();
  }
  return frames;
}
