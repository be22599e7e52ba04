import { syntheticAnswer } from '@ragstream/rag';
import { HttpClient } from '@ragstream/testing';
import type { AnswerTracker } from './answer-tracker.ts';
import type { ThroughputOptions } from './bench-config.ts';
import { ChatSession } from './chat-session.ts';
import { mapLimit } from './deferred.ts';
import type { Summary } from './percentiles.ts';
import { round, summarize } from './percentiles.ts';
import { errorText, Problems } from './problems.ts';
import { checkStored, storedAnswers } from './stored-answers.ts';

export interface ThroughputResult {
  chats: number;
  warmupChats: number;
  tokens: number;
  tokensPerSecond: number;
  workerConcurrency: number;
  /** Creating the chats and opening their sockets, before the clock starts. */
  setupMs: number;
  /** First message sent -> last terminal frame received. */
  wallMs: number;
  /** Every frame the clients received (confirms included). */
  frames: number;
  framesPerSecond: number;
  /** Tokens of completed answers per second of wall time. */
  tokensDeliveredPerSecond: number;
  answersCompleted: number;
  /** No terminal frame, or a terminal status other than 'complete'. */
  incomplete: number;
  /** Answers with a seq gap, duplicate, reordering or a frame after the terminal one. */
  outOfOrder: number;
  /** Received or terminal text != syntheticAnswer(tokens). */
  textMismatches: number;
  /** Stored text or status != received. */
  storedMismatches: number;
  ttftMs: Summary;
  /** Message sent -> terminal frame, per answer. */
  answerMs: Summary;
  failures: number;
  problems: string[];
}

/** Phase c: `chats` chats spread over the API nodes, each asks once at the same moment. */
export async function measureThroughput(
  apiUrls: readonly string[],
  options: ThroughputOptions,
  timeoutMs: number,
): Promise<ThroughputResult> {
  if (options.warmupChats > 0) await burst(apiUrls, options.warmupChats, options.tokens, options.tokensPerSecond, timeoutMs);
  const result = await burst(apiUrls, options.chats, options.tokens, options.tokensPerSecond, timeoutMs);
  return { ...result, warmupChats: options.warmupChats, workerConcurrency: options.workerConcurrency };
}

async function burst(
  apiUrls: readonly string[],
  chats: number,
  tokens: number,
  tokensPerSecond: number,
  timeoutMs: number,
): Promise<Omit<ThroughputResult, 'warmupChats' | 'workerConcurrency'>> {
  const expected = syntheticAnswer(tokens);
  const failures = new Problems();
  const incomplete = new Problems();
  const outOfOrder = new Problems();
  const textMismatches = new Problems();
  const storedMismatches = new Problems();

  const setupStart = performance.now();
  const opened = await mapLimit(
    Array.from({ length: chats }, (_, i) => i),
    16,
    async (i) => {
      const baseUrl = apiUrls[i % apiUrls.length] ?? '';
      try {
        const chatId = await new HttpClient(baseUrl).createChat('bench-throughput');
        return await ChatSession.open('ws', baseUrl, chatId);
      } catch (err) {
        failures.add(`setup: ${errorText(err)}`);
        return undefined;
      }
    },
  );
  const sessions = opened.filter((s): s is ChatSession => s !== undefined);
  const setupMs = performance.now() - setupStart;

  try {
    const start = performance.now();
    // Every message goes out in one tick; confirms and answers come back concurrently.
    const answers = await Promise.all(
      sessions.map(async (session) => {
        try {
          const answer = await session.ask('Stream me an answer.', 'bench-throughput', timeoutMs);
          await answer.waitTerminal(timeoutMs + (tokensPerSecond > 0 ? (1000 * tokens) / tokensPerSecond : 0));
          return answer;
        } catch (err) {
          incomplete.add(errorText(err));
          return undefined;
        }
      }),
    );
    const done = answers.filter((a): a is AnswerTracker => a !== undefined && a.terminal !== undefined);
    const end = done.length === sessions.length ? Math.max(start, ...done.map((a) => a.terminalAt ?? start)) : performance.now();
    const wallMs = end - start;
    const frames = sessions.reduce((total, session) => total + session.frames, 0);

    for (const answer of done) {
      if (answer.terminal?.status !== 'complete') incomplete.add(`${answer.generationId}: ${answer.terminal?.status ?? 'no terminal'}`);
      if (answer.text !== expected || answer.terminal?.text !== expected) {
        textMismatches.add(`${answer.generationId}: received ${answer.text.length}/${expected.length} chars`);
      }
    }
    for (const session of sessions) {
      const violations = session.allViolations();
      if (violations.length > 0) outOfOrder.add(violations.join('; '));
    }
    await mapLimit(sessions, 8, async (session) => {
      const answer = [...session.answers.values()][0];
      if (!answer?.terminal) return;
      try {
        const stored = (await storedAnswers(new HttpClient(session.baseUrl), session.chatId)).get(answer.generationId);
        const check = checkStored(stored, answer.text, answer.terminal.status);
        if (!check.ok) storedMismatches.add(`${answer.generationId}: ${check.problem ?? ''}`);
      } catch (err) {
        failures.add(`stored check: ${errorText(err)}`);
      }
    });

    const seconds = wallMs / 1000;
    return {
      chats,
      tokens,
      tokensPerSecond,
      setupMs: round(setupMs),
      wallMs: round(wallMs),
      frames,
      framesPerSecond: round(frames / seconds, 1),
      tokensDeliveredPerSecond: round((done.filter((a) => a.terminal?.status === 'complete').length * tokens) / seconds, 1),
      answersCompleted: done.filter((a) => a.terminal?.status === 'complete').length,
      incomplete: incomplete.count + (chats - sessions.length),
      outOfOrder: outOfOrder.count,
      textMismatches: textMismatches.count,
      storedMismatches: storedMismatches.count,
      ttftMs: summarize(done.map((a) => a.ttft).filter((v): v is number => v !== undefined)),
      answerMs: summarize(done.map((a) => (a.terminalAt ?? Number.NaN) - (a.sentAt ?? Number.NaN))),
      failures: failures.count,
      problems: [
        ...failures.examples,
        ...incomplete.examples,
        ...outOfOrder.examples,
        ...textMismatches.examples,
        ...storedMismatches.examples,
      ],
    };
  } finally {
    await Promise.all(sessions.map((session) => session.close()));
  }
}
