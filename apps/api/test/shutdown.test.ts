import { HttpClient, SioChatClient, SseChatClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

describe('SIGTERM on an API node with clients on every transport', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: '400', SYNTHETIC_TOKENS_PER_SECOND: '100' },
    });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('closes every client connection before Redis, then exits 0 without an unhandled rejection', async () => {
    const api = cluster.apis[0];
    if (!api) throw new Error('no API node');
    const http = new HttpClient(cluster.api(0));
    const chatId = await http.createChat();
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    const sio = await SioChatClient.connect(cluster.api(0), { chatId });
    const sse = await SseChatClient.connect(cluster.api(0), chatId);
    const sioClosed = new Promise<string>((resolve) => sio.socket.once('disconnect', (reason: string) => resolve(reason)));
    try {
      // An answer streams to all three while the node shuts down.
      ws.send({ mt: 'message_upload', message: 'keep talking', userId: 'u1' });
      const generationId = (await ws.collector.waitForMt('message_upload_confirm')).generationId ?? '';
      await Promise.all(
        [ws, sio, sse].map((client) => client.collector.waitForMt('chat_message_bot_partial', (f) => f.generationId === generationId)),
      );

      await api.stop(15_000);
      expect(await api.waitForExit()).toBe(0);
      expect((await ws.closed).code).toBe(1001);
      expect(await sioClosed).toBe('io server disconnect');
      // Each client is told before its connection ends, so that it reconnects elsewhere and resumes.
      for (const client of [ws, sio, sse]) expect(client.collector.frames.at(-1)).toEqual({ mt: 'server_shutdown', chatId });
      expect(api.logs).toMatch(/shutting down/);
      expect(api.logs).not.toMatch(/unhandled/i);
      expect(api.logs).not.toMatch(/shutdown step failed|closing a chat connection failed|timed out/);
    } finally {
      sio.close();
      await Promise.all([ws.close(), sse.close()]);
    }
  });
});

describe('SIGTERM with SHUTDOWN_DRAIN_SECONDS: /readyz turns 503 while the node still serves', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: '20', SYNTHETIC_TOKENS_PER_SECOND: '200', SHUTDOWN_DRAIN_SECONDS: '3' },
    });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('answers not-ready at once, keeps /healthz, REST and open sockets working through the drain, then closes them and exits 0', async () => {
    const api = cluster.apis[0];
    if (!api) throw new Error('no API node');
    const http = new HttpClient(cluster.api(0));
    const chatId = await http.createChat('u-drain');
    expect(await http.get('/readyz')).toMatchObject({ status: 200, body: { status: 'ready' } });
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    try {
      const signalledAt = Date.now();
      api.signal('SIGTERM');
      // Polled over fresh connections, as a load balancer's probe would.
      await expect.poll(async () => (await http.get('/readyz')).status, { timeout: 2_000, interval: 50 }).toBe(503);
      expect((await http.get('/readyz')).body).toEqual({ status: 'not_ready', draining: true, checks: {} });
      expect((await http.get('/healthz')).status).toBe(200);
      expect(Date.now() - signalledAt).toBeLessThan(2_500);

      // Still serving during the drain: REST, the open socket, and a new one.
      expect((await http.get(`/chat/${chatId}`)).status).toBe(200);
      ws.send({ mt: 'message_upload', message: 'still there?', userId: 'u-drain', clientMessageId: 'drain-1' });
      const confirm = await ws.collector.waitForMt('message_upload_confirm');
      await ws.collector.waitForTerminal(confirm.generationId ?? '');
      const late = await WsChatClient.connect(cluster.api(0), chatId);
      expect(late.isOpen).toBe(true);

      expect(await api.waitForExit()).toBe(0);
      expect(Date.now() - signalledAt).toBeGreaterThanOrEqual(3_000);
      for (const client of [ws, late]) {
        expect((await client.closed).code).toBe(1001);
        expect(client.collector.frames.at(-1)).toEqual({ mt: 'server_shutdown', chatId });
      }
      expect(api.logs).toMatch(/draining: \/readyz answers 503/);
      expect(api.logs).not.toMatch(/shutdown step failed|timed out|unhandled/i);
    } finally {
      await ws.close();
    }
  });
});
