import type { ErrorFrame } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import type { FrameCollector } from '@ragstream/testing';
import { HttpClient, SioChatClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { generationJobs, messagesOf } from './helpers.ts';

const TOKENS = 5;
const MAX_INBOUND_FRAMES = 2;
/** Sent in one go: far more than can be handled before the next arrives. */
const FLOOD = 40;

interface Outcome {
  confirmed: string[];
  busy: string[];
}

/** Waits until every flooded frame got its one answer: a confirmation or a `busy` error. */
async function outcomes(collector: FrameCollector): Promise<Outcome> {
  const answered = (): Outcome => ({
    confirmed: collector.frames.flatMap((f) =>
      f.mt === 'message_upload_confirm' && f.clientMessageId?.startsWith('flood-') ? [f.clientMessageId] : [],
    ),
    busy: collector.frames.flatMap((f) => (f.mt === 'error' && f.code === 'busy' && f.clientMessageId ? [f.clientMessageId] : [])),
  });
  await collector.waitFor(() => {
    const { confirmed, busy } = answered();
    return confirmed.length + busy.length >= FLOOD;
  }, 30_000);
  return answered();
}

describe(`the inbound queue of a connection holds ${MAX_INBOUND_FRAMES} frames (MAX_INBOUND_FRAMES)`, () => {
  let cluster: TestCluster;
  let http: HttpClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: {
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: String(TOKENS),
        SYNTHETIC_TOKENS_PER_SECOND: '0',
        MAX_INBOUND_FRAMES: String(MAX_INBOUND_FRAMES),
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

  /**
   * Each flooded frame is answered once; those answered `busy` were neither stored nor answered;
   * the connection stays open and a later message goes through.
   */
  async function expectFloodHandled(
    chatId: string,
    collector: FrameCollector,
    isOpen: () => boolean,
    send: (frame: object) => void,
  ): Promise<void> {
    const { confirmed, busy } = await outcomes(collector);
    expect(busy.length).toBeGreaterThan(0);
    expect(confirmed.length).toBeGreaterThanOrEqual(MAX_INBOUND_FRAMES);
    expect([...confirmed, ...busy].sort()).toEqual(Array.from({ length: FLOOD }, (_, i) => `flood-${i}`).sort());
    const busyFrame = collector.frames.find((f): f is ErrorFrame => f.mt === 'error' && f.code === 'busy');
    expect(busyFrame?.message).toMatch(/send this one again/);
    // The confirmed ones are stored in the order they were sent; none of the refused ones is.
    const confirmedTexts = confirmed.map((id) => `message ${id}`);
    const sentOrder = Array.from({ length: FLOOD }, (_, i) => `message flood-${i}`).filter((text) => confirmedTexts.includes(text));
    await expect
      .poll(async () => (await messagesOf(http, chatId)).filter((m) => m.role === 'user').map((m) => m.text), { timeout: 10_000 })
      .toEqual(sentOrder);
    const jobs = (await generationJobs(cluster)).filter((job) => job.chatId === chatId);
    expect(jobs.map((job) => job.text).sort()).toEqual([...confirmedTexts].sort());
    expect(isOpen()).toBe(true);

    // Usable afterwards: a message sent on its own is confirmed and answered whole.
    send({ mt: 'message_upload', message: 'one more', userId: 'u-flood', clientMessageId: 'after' });
    const confirm = await collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === 'after');
    expect((await collector.waitForTerminal(confirm.generationId ?? '')).text).toBe(syntheticAnswer(TOKENS));
  }

  it('WebSocket: a flood of frames gets busy for those past the cap', async () => {
    const chatId = await http.createChat('u-flood');
    const ws = await WsChatClient.connect(cluster.api(0), chatId);
    try {
      for (let i = 0; i < FLOOD; i += 1) {
        ws.send({ mt: 'message_upload', message: `message flood-${i}`, userId: 'u-flood', clientMessageId: `flood-${i}` });
      }
      await expectFloodHandled(
        chatId,
        ws.collector,
        () => ws.isOpen,
        (frame) => ws.send(frame),
      );
    } finally {
      await ws.close();
    }
  });

  it('Socket.IO: a flood of events gets busy for those past the cap', async () => {
    const chatId = await http.createChat('u-flood');
    const client = await SioChatClient.connect(cluster.api(0), { chatId });
    try {
      for (let i = 0; i < FLOOD; i += 1) {
        client.emit('message_upload', { message: `message flood-${i}`, userId: 'u-flood', clientMessageId: `flood-${i}` });
      }
      await expectFloodHandled(
        chatId,
        client.collector,
        () => client.socket.connected,
        (frame) => client.socket.send(frame),
      );
    } finally {
      client.close();
    }
  });
});
