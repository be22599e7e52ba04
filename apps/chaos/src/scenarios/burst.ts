import { syntheticAnswer } from '@ragstream/rag';
import type { Answer } from '../answers.ts';
import { ask, connectClient } from '../answers.ts';
import type { ChaosClient } from '../chaos-client.ts';
import type { Scenario } from '../scenario.ts';
import { between, sleep, syntheticEnv } from '../scenario.ts';
import { verify } from '../verify.ts';

/** Sends of one chat are spread over this window, so that some are confirmed before others are sent. */
const SPREAD_MS = 80;

/**
 * Each chat has a client on each API node; both send several messages at once. The
 * chat answers them one at a time (no overlap), each client's in the order of its
 * confirmations, across clients in confirmation order, and none spuriously `failed`.
 */
export const burst: Scenario = {
  name: 'burst',
  title: 'concurrent sends to one chat from two nodes',
  fast: true,
  envKey: 'synthetic',
  env: (sizes) => ({ apis: 2, workers: 2, env: syntheticEnv(sizes) }),
  async run(env, ctx) {
    const { burstChats, burstPerClient } = ctx.sizes;
    const problems: string[] = [];
    const { tokens, tokensPerSecond } = ctx.sizes;
    const expectedText = syntheticAnswer(tokens);
    const chats = await Promise.all(
      Array.from({ length: burstChats }, async (_, c) => {
        const chatId = await env.http(0).createChat('chaos-user');
        const clients = await Promise.all([
          connectClient(env, chatId, 0, 'ws', `ws@api-0 chat ${chatId}`),
          connectClient(env, chatId, 1, 'socketio', `socketio@api-1 chat ${chatId}`),
        ]);
        const sends: Promise<Answer>[] = [];
        for (let m = 0; m < burstPerClient; m += 1) {
          clients.forEach((client, side) => {
            const index = c * 100 + side * 10 + m;
            const tag = `[burst-${index}]`;
            const delay = m === 0 ? 0 : between(ctx.random, 0, SPREAD_MS);
            sends.push(
              sleep(delay).then(() => ask(client, index, `Burst question ${m} from side ${side} ${tag}`, tag, ['complete'], expectedText)),
            );
          });
        }
        const settled = await Promise.allSettled(sends);
        const answers: Answer[] = [];
        for (const result of settled) {
          if (result.status === 'fulfilled') answers.push(result.value);
          else problems.push(`a message was not confirmed: ${String(result.reason)}`);
        }
        return { chatId, clients, answers };
      }),
    );
    const answers = chats.flatMap((c) => c.answers);
    const observers = chats.flatMap((c) => c.clients);
    const perChatMs = (tokens / tokensPerSecond) * 1000 * burstPerClient * 2;
    const verification = await verify(env, answers, { observers, terminalTimeoutMs: perChatMs * 3 + 20_000 });

    for (const chat of chats) problems.push(...orderProblems(chat.answers, chat.clients));
    const duplicates = answers.filter((a) => a.client.confirmations.get(a.clientMessageId)?.duplicate);
    if (duplicates.length > 0) problems.push(`${duplicates.length} first sends were confirmed as duplicates`);
    return {
      verification,
      problems,
      notes: [`${burstChats} chats × 2 nodes × ${burstPerClient} messages sent at once`],
    };
  },
};

/** One at a time, and in confirmation order, as each client of the chat saw the answers. */
function orderProblems(answers: Answer[], clients: ChaosClient[]): string[] {
  const problems: string[] = [];
  for (const client of clients) {
    const seen = answers
      .map((a) => ({ answer: a, view: client.view(a.generationId) }))
      .filter((x) => x.view.arrivals.length > 0)
      .map((x) => ({ ...x, first: Math.min(...x.view.arrivals.map((r) => r.at)), end: x.view.terminalAt ?? Number.POSITIVE_INFINITY }))
      .sort((p, q) => p.first - q.first);
    for (let i = 1; i < seen.length; i += 1) {
      const prev = seen[i - 1];
      const next = seen[i];
      if (!prev || !next) continue;
      if (next.first < prev.end) {
        problems.push(
          `chat ${client.chatId} at ${client.label}: ${next.answer.generationId} started before ${prev.answer.generationId} ended (two answers at once)`,
        );
      }
    }
    // Answer order must follow confirmation order: a client's own messages strictly; across
    // nodes, a message confirmed before the other was even sent must be answered first.
    for (let i = 0; i < seen.length; i += 1) {
      for (let j = i + 1; j < seen.length; j += 1) {
        const earlier = seen[i];
        const later = seen[j];
        if (!earlier || !later) continue;
        const sameSender = earlier.answer.client === later.answer.client;
        if (sameSender && later.answer.confirmedAt < earlier.answer.confirmedAt) {
          problems.push(
            `chat ${client.chatId} at ${client.label}: ${earlier.answer.tag} was answered before ${later.answer.tag}, confirmed earlier on the same connection`,
          );
        } else if (!sameSender && later.answer.confirmedAt < earlier.answer.sentAt) {
          problems.push(
            `chat ${client.chatId} at ${client.label}: ${earlier.answer.tag} was answered before ${later.answer.tag}, which was confirmed ${Math.round(earlier.answer.sentAt - later.answer.confirmedAt)} ms before ${earlier.answer.tag} was sent`,
          );
        }
      }
    }
  }
  return problems;
}
