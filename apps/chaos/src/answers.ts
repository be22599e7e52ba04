import type { BotStatus } from '@ragstream/protocol';
import type { Confirmation } from './chaos-client.ts';
import { ChaosClient } from './chaos-client.ts';
import type { ChaosEnv } from './chaos-env.ts';
import type { Transport } from './chat-connection.ts';
import type { GenerationView } from './generation-view.ts';

/** One question asked in a scenario and what its answer must end as. */
export interface Answer {
  index: number;
  chatId: string;
  /** The client that sent it; other clients of the chat may watch it too. */
  client: ChaosClient;
  clientMessageId: string;
  /** Unique in the question text, so that the scripted model can tell generations apart. */
  tag: string;
  question: string;
  generationId: string;
  messageId: string;
  sentAt: number;
  confirmedAt: number;
  /** Terminal statuses this answer may end with. */
  allowed: BotStatus[];
  /** When it ends complete, the full text it must have. */
  expectedText?: string;
}

export function transportFor(index: number): Transport {
  return Math.floor(index / 2) % 2 === 0 ? 'ws' : 'socketio';
}

/** A client of `chatId` on API node `apiIndex` that reconnects to another running node when its own goes away. */
export function connectClient(env: ChaosEnv, chatId: string, apiIndex: number, transport: Transport, label?: string): Promise<ChaosClient> {
  return ChaosClient.connect({
    transport,
    chatId,
    baseUrl: env.api(apiIndex),
    reconnectTo: (lost) => env.otherLiveApi(lost),
    label: label ?? `${transport}@api-${apiIndex} chat ${chatId}`,
  });
}

export interface StartOptions {
  count: number;
  scenario: string;
  allowed: BotStatus[];
  expectedText?: string;
  /** The question for answer i (its tag is appended). */
  question?: (index: number) => string;
}

/** `count` chats, each with one client (alternating node and transport) that asks one question; resolves once all are confirmed. */
export async function startAnswers(env: ChaosEnv, options: StartOptions): Promise<Answer[]> {
  const apiCount = env.cluster.apiUrls.length;
  return Promise.all(
    Array.from({ length: options.count }, async (_, index) => {
      const apiIndex = index % apiCount;
      const chatId = await env.http(apiIndex).createChat('chaos-user');
      const client = await connectClient(env, chatId, apiIndex, transportFor(index));
      const tag = `[${options.scenario}-${index}]`;
      const question = `${options.question?.(index) ?? 'Explain how the streaming pipeline works'} ${tag}`;
      return ask(client, index, question, tag, options.allowed, options.expectedText);
    }),
  );
}

export async function ask(
  client: ChaosClient,
  index: number,
  question: string,
  tag: string,
  allowed: BotStatus[],
  expectedText?: string,
  clientMessageId = `cm-${tag.replace(/[^A-Za-z0-9-]/g, '')}`,
): Promise<Answer> {
  const sentAt = performance.now();
  const confirmation: Confirmation = await client.send(question, clientMessageId);
  if (!confirmation.generationId) throw new Error(`${client.label}: confirmation of ${clientMessageId} has no generationId`);
  const answer: Answer = {
    index,
    chatId: client.chatId,
    client,
    clientMessageId,
    tag,
    question,
    generationId: confirmation.generationId,
    messageId: confirmation.messageId,
    sentAt,
    confirmedAt: confirmation.at,
    allowed,
  };
  if (expectedText !== undefined) answer.expectedText = expectedText;
  return answer;
}

export function viewOf(answer: Answer): GenerationView {
  return answer.client.view(answer.generationId);
}

/** Resolves when the answer's client has seen a frame matching, or false after the timeout. */
export function waitForFrame(answer: Answer, predicate: Parameters<GenerationView['waitFrame']>[0], timeoutMs = 30_000): Promise<boolean> {
  return viewOf(answer).waitFrame(predicate, timeoutMs);
}

/** Resolves with the first of `answers` whose client sees a matching frame; rejects after the timeout. */
export function firstToReach(
  answers: Answer[],
  predicate: Parameters<GenerationView['waitFrame']>[0],
  timeoutMs = 30_000,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    let pending = answers.length;
    for (const answer of answers) {
      void waitForFrame(answer, predicate, timeoutMs).then((ok) => {
        if (ok) resolve(answer);
        else if (--pending === 0) reject(new Error(`no answer reached the awaited frame within ${timeoutMs} ms`));
      });
    }
    if (answers.length === 0) reject(new Error('no answers to wait for'));
  });
}

/** Partial frames of the answer's current attempt that its client has received. */
export function partialsOf(answer: Answer): number {
  const view = viewOf(answer);
  return view.frames.filter((f) => f.mt === 'chat_message_bot_partial' && f.attempt === view.currentAttempt).length;
}

/**
 * A second question from the client of every other answer, sent at once: it is confirmed
 * while the first streams and must be answered after it, so that a fault also exercises
 * handing the chat's turn on.
 */
export async function askFollowUps(answers: Answer[], scenario: string, expectedText?: string): Promise<Answer[]> {
  return Promise.all(
    answers
      .filter((a) => a.index % 2 === 0)
      .map((a) => {
        const index = 1000 + a.index;
        const tag = `[${scenario}-${index}]`;
        return ask(a.client, index, `And what happens after that? ${tag}`, tag, ['complete'], expectedText);
      }),
  );
}
