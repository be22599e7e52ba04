import { syntheticAnswer } from '@ragstream/rag';
import type { FrameCollector } from '@ragstream/testing';
import { HttpClient, SioChatClient, SseChatClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKENS = 20;
const UNKNOWN_GENERATION = 'gen-never-issued';

/** The client sees that its resume cannot be served, then still gets a new answer on the same connection. */
async function expectUnavailableThenUsable(collector: FrameCollector, chatId: string, ask: () => Promise<string>): Promise<void> {
  const unavailable = await collector.waitForMt('resume_unavailable');
  expect(unavailable).toEqual({ mt: 'resume_unavailable', chatId, generationId: UNKNOWN_GENERATION });
  expect(collector.frames.indexOf(unavailable)).toBe(0);
  const generationId = await ask();
  const done = await collector.waitForTerminal(generationId);
  expect(done).toMatchObject({ status: 'complete', text: syntheticAnswer(TOKENS) });
  expect(collector.frames.filter((f) => f.mt === 'resume_unavailable')).toHaveLength(1);
}

describe('a resume of an unknown generation gets resume_unavailable on every transport', () => {
  let cluster: TestCluster;
  let http: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '200' },
    });
    http = new HttpClient(cluster.api(0));
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('raw WebSocket (?generationId=&lastSeq=)', async () => {
    const chatId = await http.createChat();
    const ws = await WsChatClient.connect(cluster.api(0), chatId, { generationId: UNKNOWN_GENERATION, lastSeq: 5 });
    try {
      await expectUnavailableThenUsable(ws.collector, chatId, async () => {
        ws.send({ mt: 'message_upload', message: 'still there?', userId: 'u1' });
        return (await ws.collector.waitForMt('message_upload_confirm')).generationId ?? '';
      });
      expect(ws.isOpen).toBe(true);
    } finally {
      await ws.close();
    }
  });

  it('Socket.IO (handshake auth), as an event named resume_unavailable', async () => {
    const chatId = await http.createChat();
    const client = await SioChatClient.connect(cluster.api(0), { chatId, generationId: UNKNOWN_GENERATION, lastSeq: 5 });
    try {
      await expectUnavailableThenUsable(client.collector, chatId, async () => {
        client.emit('message_upload', { message: 'still there?', userId: 'u1' });
        return (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
      });
      expect(client.events[0]).toBe('resume_unavailable');
      expect(client.socket.connected).toBe(true);
    } finally {
      client.close();
    }
  });

  it('Server-Sent Events (Last-Event-ID), as an event without an id', async () => {
    const chatId = await http.createChat();
    const sse = await SseChatClient.connect(cluster.api(0), chatId, `${UNKNOWN_GENERATION}:5`);
    try {
      await expectUnavailableThenUsable(sse.collector, chatId, async () => {
        const { status, body } = await http.post<{ generationId?: string }>(`/chat/${chatId}/messages`, {
          text: 'still there?',
          userId: 'u1',
          generate: true,
        });
        expect(status).toBe(201);
        return body.generationId ?? '';
      });
      // One id per generation frame: the resume_unavailable event has none.
      expect(sse.ids).toHaveLength(sse.collector.frames.length - 1);
      expect(sse.ids.every((id) => !id.startsWith(UNKNOWN_GENERATION))).toBe(true);
    } finally {
      await sse.close();
    }
  });
});
