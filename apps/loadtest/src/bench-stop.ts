import { setTimeout as sleep } from 'node:timers/promises';
import { HttpClient } from '@ragstream/testing';
import type { StopOptions } from './bench-config.ts';
import { ChatSession } from './chat-session.ts';
import { mapLimit } from './deferred.ts';
import type { Summary } from './percentiles.ts';
import { summarize } from './percentiles.ts';
import { errorText, Problems } from './problems.ts';
import { checkStored, storedAnswers } from './stored-answers.ts';

export type StopMethod = 'ws' | 'http';

export interface StopResult {
  answers: number;
  concurrency: number;
  tokens: number;
  tokensPerSecond: number;
  maxDelayMs: number;
  /** Stop sent from a node-B client -> terminal 'stopped' frame received by the node-A client. */
  latencyMs: Summary;
  byMethod: Record<StopMethod, Summary>;
  /** Length of the stopped answers' text: the stored-text check is not comparing empty strings. */
  stoppedChars: Summary;
  /** Stored text or status differs from what the node-A client (or the node-B client) received. */
  mismatches: number;
  /** Terminal status other than 'stopped'. */
  notStopped: number;
  failures: number;
  violations: number;
  problems: string[];
}

interface StopSample {
  method: StopMethod;
  latency: number;
  chars: number;
}

/**
 * Phase b: an answer streams to a client of node A; after its first partial (and a
 * short, varying delay) a client of node B stops it, by `{mt:'stop'}` on its own
 * WebSocket or by POST /chat/:chatId/stop, alternately.
 */
export async function measureStop(apiUrls: readonly string[], options: StopOptions, timeoutMs: number): Promise<StopResult> {
  const failures = new Problems();
  const mismatches = new Problems();
  const notStopped = new Problems();
  const violations = new Problems();

  const one = async (index: number): Promise<StopSample | undefined> => {
    const urlA = apiUrls[index % apiUrls.length] ?? '';
    const urlB = apiUrls[(index + 1) % apiUrls.length] ?? '';
    const httpB = new HttpClient(urlB);
    const method: StopMethod = index % 2 === 0 ? 'ws' : 'http';
    const sessions: ChatSession[] = [];
    try {
      const chatId = await new HttpClient(urlA).createChat('bench-stop');
      const a = await ChatSession.open('ws', urlA, chatId);
      sessions.push(a);
      const b = await ChatSession.open('ws', urlB, chatId);
      sessions.push(b);

      const answer = await a.ask('Tell me a long story.', 'bench-stop', timeoutMs);
      await answer.waitFirstPartial(timeoutMs);
      await sleep((index % 5) * (options.maxDelayMs / 4));

      let sentAt: number;
      let httpStop: Promise<Error | undefined> = Promise.resolve(undefined);
      if (method === 'ws') {
        sentAt = b.stop();
      } else {
        sentAt = performance.now();
        // Settles to the error, if any, so that it is never an unhandled rejection.
        httpStop = httpB.post(`/chat/${chatId}/stop`).then(
          ({ status, body }) => (status === 200 ? undefined : new Error(`POST /chat/${chatId}/stop: ${status} ${JSON.stringify(body)}`)),
          (err: unknown) => new Error(`POST /chat/${chatId}/stop: ${errorText(err)}`),
        );
      }
      const terminal = await answer.waitTerminal(timeoutMs);
      const latency = (answer.terminalAt ?? Number.NaN) - sentAt;
      const stopError = await httpStop;
      if (stopError) throw stopError;
      if (terminal.status !== 'stopped') notStopped.add(`${answer.generationId}: status ${terminal.status}`);

      const seenByB = b.answers.get(answer.generationId);
      if (!seenByB) {
        mismatches.add(`${answer.generationId}: the node-B client saw no frame of it`);
      } else {
        await seenByB.waitTerminal(timeoutMs);
        if (seenByB.text !== answer.text) mismatches.add(`${answer.generationId}: node-A and node-B clients received different text`);
      }
      const stored = (await storedAnswers(httpB, chatId)).get(answer.generationId);
      const check = checkStored(stored, answer.text, terminal.status);
      if (!check.ok) mismatches.add(`${answer.generationId}: ${check.problem ?? ''}`);
      for (const session of sessions) violations.addAll(session.allViolations());
      return { method, latency, chars: answer.text.length };
    } catch (err) {
      failures.add(errorText(err));
      return undefined;
    } finally {
      await Promise.all(sessions.map((session) => session.close()));
    }
  };

  const runs = Array.from({ length: options.answers }, (_, i) => i);
  const samples = (await mapLimit(runs, options.concurrency, one)).filter((s): s is StopSample => s !== undefined);
  const latencies = (method?: StopMethod): number[] =>
    samples.filter((s) => method === undefined || s.method === method).map((s) => s.latency);

  return {
    answers: options.answers,
    concurrency: options.concurrency,
    tokens: options.tokens,
    tokensPerSecond: options.tokensPerSecond,
    maxDelayMs: options.maxDelayMs,
    latencyMs: summarize(latencies()),
    byMethod: { ws: summarize(latencies('ws')), http: summarize(latencies('http')) },
    stoppedChars: summarize(samples.map((s) => s.chars)),
    mismatches: mismatches.count,
    notStopped: notStopped.count,
    failures: failures.count,
    violations: violations.count,
    problems: [...failures.examples, ...mismatches.examples, ...notStopped.examples, ...violations.examples],
  };
}
