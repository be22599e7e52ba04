import type { GenerationFrame } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import { HttpClient, SioChatClient, SseChatClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, messagesOf } from './helpers.ts';
import { ensureNginxBinary, NginxProxy } from './nginx-proxy.ts';

/** 200 tokens at 50 per second: a 4 s answer, long enough to see streaming and to drop a socket mid-answer. */
const TOKENS = 200;
const TOKENS_PER_SECOND = 50;
const ANSWER = syntheticAnswer(TOKENS);
const SEED_FRAME = { mt: 'message_upload', message: 'Hello!', userId: '123', timezone: 'UTC', selectedLanguage: 'en' } as const;

const nginx = ensureNginxBinary();
if ('reason' in nginx) console.warn(`proxy.test.ts skipped: no nginx (${nginx.reason})`);

describe.skipIf('reason' in nginx)(
  'through nginx (deploy/nginx/ragstream.conf.template) in front of 2 API nodes, no sticky sessions',
  () => {
    let cluster: TestCluster;
    let proxy: NginxProxy;
    let http: HttpClient;

    beforeAll(async () => {
      if (!('path' in nginx)) return;
      cluster = await TestCluster.start({
        apis: 2,
        workers: 1,
        env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: String(TOKENS_PER_SECOND) },
      });
      proxy = await NginxProxy.start(
        nginx.path,
        cluster.apiUrls.map((url) => new URL(url).host),
      );
      http = new HttpClient(proxy.url);
    });
    afterEach((ctx) => {
      if (ctx.task.result?.state === 'fail') console.error(`${cluster?.logs()}\n${proxy?.logs()}`);
    });
    afterAll(async () => {
      await proxy?.stop();
      await cluster?.stop();
    });

    it('a raw WebSocket answer', async () => {
      const chatId = await http.createChat('123');
      const ws = await WsChatClient.connect(proxy.url, chatId);
      try {
        ws.send(SEED_FRAME);
        const confirm = await ws.collector.waitForMt('message_upload_confirm');
        const done = await ws.collector.waitForTerminal(confirm.generationId ?? '');
        expect(done).toMatchObject({ chatId, status: 'complete', text: ANSWER });
        expect(ws.collector.textOf(done.generationId)).toBe(ANSWER);
      } finally {
        await ws.close();
      }
    });

    it('a Socket.IO answer (WebSocket transport)', async () => {
      const chatId = await http.createChat('123');
      const client = await SioChatClient.connect(proxy.url, { chatId });
      try {
        client.emit('message_upload', { message: 'Hello!', userId: '123', timezone: 'UTC', selectedLanguage: 'en' });
        const confirm = await client.collector.waitForMt('message_upload_confirm');
        const done = await client.collector.waitForTerminal(confirm.generationId ?? '');
        expect(done).toMatchObject({ chatId, status: 'complete', text: ANSWER });
        expect(client.collector.textOf(done.generationId)).toBe(ANSWER);
      } finally {
        client.close();
      }
    });

    it('an SSE answer that streams unbuffered: the first partial arrives long before the end', async () => {
      const chatId = await http.createChat('123');
      const sse = await SseChatClient.connect(proxy.url, chatId);
      try {
        const posted = await http.post<{ generationId: string }>(`/chat/${chatId}/messages`, {
          text: 'Hello!',
          userId: '123',
          generate: true,
        });
        expect(posted.status).toBe(201);
        const generationId = posted.body.generationId;
        const done = await sse.collector.waitForTerminal(generationId);
        expect(done).toMatchObject({ status: 'complete', text: ANSWER });
        expect(sse.collector.textOf(generationId)).toBe(ANSWER);

        const { frames, receivedAt } = sse.collector;
        const firstPartial = frames.findIndex((f) => f.mt === 'chat_message_bot_partial' && f.generationId === generationId);
        const terminal = frames.indexOf(done);
        const streamedFor = (receivedAt[terminal] ?? 0) - (receivedAt[firstPartial] ?? 0);
        // The answer takes about 4 s to produce; a buffering proxy would deliver it in one burst at the end.
        expect(streamedFor).toBeGreaterThan(2_000);
      } finally {
        await sse.close();
      }
    });

    it('the SSE response tells further proxies not to buffer', async () => {
      const chatId = await http.createChat('123');
      const controller = new AbortController();
      const response = await fetch(`${proxy.url}/chat/${chatId}/events`, {
        signal: controller.signal,
        headers: { accept: 'text/event-stream' },
      });
      controller.abort();
      expect(response.status).toBe(200);
      expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(response.headers.get('x-accel-buffering')).toBe('no');
    });

    it('a WebSocket dropped mid-answer resumes on the other node (round robin) with generationId + lastSeq', async () => {
      const chatId = await http.createChat('123');
      const first = await WsChatClient.connect(proxy.url, chatId);
      let resumed: WsChatClient | undefined;
      try {
        first.send(SEED_FRAME);
        const confirm = await first.collector.waitForMt('message_upload_confirm');
        const generationId = confirm.generationId ?? '';
        await first.collector.waitForMt('chat_message_bot_partial', (f) => f.generationId === generationId && f.seq >= 4);
        await first.close();
        const before = first.collector.ofGeneration(generationId) as GenerationFrame[];
        expect(before.some((f) => f.mt === 'chat_message_bot_complete')).toBe(false);
        const lastSeq = before.at(-1)?.seq ?? 0;

        resumed = await WsChatClient.connect(proxy.url, chatId, { generationId, lastSeq });
        const done = await resumed.collector.waitForTerminal(generationId);
        await resumed.close();
        const after = resumed.collector.ofGeneration(generationId) as GenerationFrame[];
        expect([...before, ...after].map((f) => f.seq)).toEqual(Array.from({ length: done.seq }, (_, i) => i + 1));
        expect(after.filter((f) => f.mt === 'chat_message_bot_partial').length).toBeGreaterThan(0);

        const text = [...before, ...after].map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : '')).join('');
        const stored = (await messagesOf(http, chatId)).find((m) => m.generationId === generationId);
        expect(stored?.text).toBe(text);
        expect(text).toBe(ANSWER);

        // nginx's access log (written as each socket closes) names the node behind it: the two differ.
        const sockets = await eventually(
          async () => proxy.requests().filter((r) => r.uri.startsWith(`/chat/ws/${chatId}`)),
          (all) => all.length >= 2,
        );
        expect(sockets.map((r) => r.status)).toEqual([101, 101]);
        expect(new Set(sockets.map((r) => r.upstream)).size).toBe(2);
      } finally {
        await first.close();
        await resumed?.close();
      }
    });

    it('a Socket.IO client dropped mid-answer resumes on the other node with auth { generationId, lastSeq }', async () => {
      const chatId = await http.createChat('123');
      const first = await SioChatClient.connect(proxy.url, { chatId });
      let resumed: SioChatClient | undefined;
      try {
        first.emit('message_upload', { message: 'Hello!', userId: '123' });
        const confirm = await first.collector.waitForMt('message_upload_confirm');
        const generationId = confirm.generationId ?? '';
        await first.collector.waitForMt('chat_message_bot_partial', (f) => f.generationId === generationId && f.seq >= 4);
        first.close();
        const before = first.collector.ofGeneration(generationId) as GenerationFrame[];
        expect(before.some((f) => f.mt === 'chat_message_bot_complete')).toBe(false);
        const lastSeq = before.at(-1)?.seq ?? 0;

        resumed = await SioChatClient.connect(proxy.url, { chatId, generationId, lastSeq });
        const done = await resumed.collector.waitForTerminal(generationId);
        resumed.close();
        const after = resumed.collector.ofGeneration(generationId) as GenerationFrame[];
        expect([...before, ...after].map((f) => f.seq)).toEqual(Array.from({ length: done.seq }, (_, i) => i + 1));
        const text = [...before, ...after].map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : '')).join('');
        const stored = (await messagesOf(http, chatId)).find((m) => m.generationId === generationId);
        expect(stored?.text).toBe(text);
        expect(text).toBe(ANSWER);

        // Each Socket.IO connection is one WebSocket through the proxy, logged by nginx when it closes.
        const sockets = await eventually(
          async () => proxy.requests().filter((r) => r.uri.startsWith('/socket.io/')),
          (all) => all.length >= 2,
        );
        expect(sockets.slice(-2).map((r) => r.status)).toEqual([101, 101]);
        expect(new Set(sockets.slice(-2).map((r) => r.upstream)).size).toBe(2);
      } finally {
        first.close();
        resumed?.close();
      }
    });
  },
);
