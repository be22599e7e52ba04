import type { ChatMessage, Page } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import type { ManagedProcess } from '@ragstream/testing';
import { HttpClient, TestCluster } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Confirmation } from '../src/chaos-client.ts';
import { ChaosClient } from '../src/chaos-client.ts';
import type { Transport } from '../src/chat-connection.ts';

const TOKENS = 200;
const CHATS = 4;
/** Each chat keeps asking until the restarts are over; this bounds the run on a slow machine. */
const MAX_ANSWERS_PER_CHAT = 20;

/**
 * Every API node and every worker restarted one by one (replacement first, then SIGTERM)
 * while answers stream. A 1 s grace is shorter than an answer (4 s), so the workers hand
 * running answers back and another worker starts them over as a new attempt.
 */
describe('rolling restart of every API node and worker while answers stream', () => {
  let cluster: TestCluster;
  const draining = new Set<string>();
  let clients: ChaosClient[] = [];

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 2,
      workers: 2,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '50' },
      workerEnv: { SHUTDOWN_GRACE_SECONDS: '1' },
    });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await Promise.all(clients.map((client) => client.close()));
    await cluster?.stop();
  });

  /** A node that is up and not being restarted, as a load balancer would pick. */
  function liveApi(except?: string): string | undefined {
    return cluster.apiUrls.find((url, i) => url !== except && !draining.has(url) && cluster.apis[i]?.running === true);
  }

  async function restart(old: ManagedProcess, start: () => Promise<ManagedProcess>, url?: string): Promise<void> {
    await start();
    if (url !== undefined) draining.add(url);
    await old.stop(30_000);
    expect(await old.waitForExit(), `${old.name} exit code\n${old.logs}`).toBe(0);
  }

  it('loses, duplicates and changes no answer; every process exits 0', async () => {
    const http = new HttpClient(cluster.api(0));
    clients = await Promise.all(
      Array.from({ length: CHATS }, async (_, i) => {
        const chatId = await http.createChat(`restart-user-${i}`);
        const transport: Transport = i % 2 === 0 ? 'ws' : 'socketio';
        return ChaosClient.connect({ transport, chatId, baseUrl: cluster.api(i % 2), reconnectTo: (lost) => liveApi(lost) });
      }),
    );

    let restarting = true;
    const asked = clients.map(async (client) => {
      const generations: string[] = [];
      for (let n = 0; n < MAX_ANSWERS_PER_CHAT && (restarting || n === 0); n += 1) {
        const confirmation = await sendReliably(client, `tell me about part ${n}`, `${client.chatId}-${n}`);
        generations.push(confirmation.generationId);
        const terminal = await client.view(confirmation.generationId).waitTerminal(90_000);
        if (!terminal) throw new Error(`${client.label}: no terminal frame for ${confirmation.generationId}`);
      }
      return generations;
    });

    // Restart only once every chat has an answer streaming.
    await Promise.all(
      clients.map(async (client) => {
        for (;;) {
          if ([...client.views.values()].some((v) => v.frames.some((f) => f.mt === 'chat_message_bot_partial'))) return;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
      }),
    );
    const oldApis = cluster.apis.slice();
    const oldWorkers = cluster.workers.slice();
    for (const [i, api] of oldApis.entries()) await restart(api, () => cluster.addApi(), cluster.api(i));
    for (const worker of oldWorkers) await restart(worker, () => cluster.addWorker());
    restarting = false;

    const generationsByClient = await Promise.all(asked);
    const expected = syntheticAnswer(TOKENS);
    const rest = new HttpClient(liveApi() ?? cluster.api(cluster.apiUrls.length - 1));
    for (const [i, client] of clients.entries()) {
      const generations = generationsByClient[i] ?? [];
      expect(client.problems, client.label).toEqual([]);
      expect(client.errors, client.label).toEqual([]);
      // Every node it was connected to was restarted.
      expect(client.reconnections.length, client.label).toBeGreaterThan(0);
      const { body } = await rest.get<Page<ChatMessage>>(`/chat/${client.chatId}/messages?limit=200`);
      for (const generationId of generations) {
        const view = client.view(generationId);
        const where = `${client.label} ${generationId}`;
        expect(view.terminals, where).toBe(1);
        expect(view.duplicates, where).toBe(0);
        expect(view.violations, where).toEqual([]);
        expect(view.terminal?.status, where).toBe('complete');
        // The final attempt arrived whole and in order, from its typing indicator to its terminal frame.
        const final = view.frames.filter((f) => f.attempt === view.terminal?.attempt);
        expect(final[0]?.mt, where).toBe('typing_indicator');
        const first = final[0]?.seq ?? 0;
        expect(
          final.map((f) => f.seq),
          where,
        ).toEqual(final.map((_, k) => first + k));
        expect(view.text, where).toBe(expected);
        expect(view.terminal?.text, where).toBe(expected);
        const stored = body.items.filter((m) => m.role === 'bot' && m.generationId === generationId);
        expect(stored, where).toHaveLength(1);
        expect(stored[0]?.text, where).toBe(view.text);
        expect(stored[0]?.status, where).toBe('complete');
      }
    }
    // The short grace made at least one worker hand a running answer back, and its retry was seen as a new attempt.
    expect(oldWorkers.some((w) => w.logs.includes('handing the attempt back'))).toBe(true);
    const retried = clients.flatMap((client) => [...client.views.values()]).filter((v) => v.attempts.length > 1);
    expect(retried.length).toBeGreaterThan(0);
  }, 300_000);
});

/** A message sent while the client reconnects is lost with its socket: resend it under the same id until confirmed. */
async function sendReliably(client: ChaosClient, text: string, clientMessageId: string): Promise<Confirmation> {
  for (let tries = 1; ; tries += 1) {
    try {
      return await client.send(text, clientMessageId, 'restart-user', 3_000);
    } catch (err) {
      if (tries >= 20) throw err;
    }
  }
}
