import type { AnswerRequest } from '@ragstream/rag';
import { SyntheticResponder, syntheticAnswer } from '@ragstream/rag';
import { HttpClient } from '@ragstream/testing';
import type { TtftOptions } from './bench-config.ts';
import { ChatSession } from './chat-session.ts';
import { mapLimit } from './deferred.ts';
import type { Summary } from './percentiles.ts';
import { summarize } from './percentiles.ts';
import { errorText, Problems } from './problems.ts';

export interface TtftResult {
  answers: number;
  concurrency: number;
  warmup: number;
  tokens: number;
  tokensPerSecond: number;
  /** message_upload sent over the raw WebSocket -> first chat_message_bot_partial received. */
  queueMs: Summary;
  /** Of which: message_upload sent -> message_upload_confirm received (API node stores the message). */
  confirmMs: Summary;
  /** Of which: confirm received -> first partial received (enqueue, worker pick-up, first frame through Redis). */
  confirmToFirstPartialMs: Summary;
  /** SyntheticResponder.respond() called in this process -> first delta. */
  inProcessMs: Summary;
  /** queue - in-process, sample by sample: the queue, Redis and socket path. */
  overheadMs: Summary;
  failures: number;
  /** Answers that did not complete with the full synthetic text. */
  mismatches: number;
  violations: number;
  problems: string[];
}

const REQUEST: AnswerRequest = {
  chatId: 'in-process',
  organisationId: 'in-process',
  userId: 'bench',
  userMessageId: 'in-process',
  text: 'How fast is the first token?',
};

/** Time to first token from respond() to the first delta, in this process. */
export async function inProcessTtft(tokens: number, tokensPerSecond: number, samples: number): Promise<number[]> {
  const responder = new SyntheticResponder(tokens, tokensPerSecond);
  const out: number[] = [];
  for (let i = 0; i < samples; i += 1) {
    const controller = new AbortController();
    const start = performance.now();
    const iterator = responder.respond(REQUEST, controller.signal)[Symbol.asyncIterator]();
    const first = await iterator.next();
    const elapsed = performance.now() - start;
    if (first.done || first.value.type !== 'delta') throw new Error('the synthetic responder yielded no delta');
    out.push(elapsed);
    controller.abort();
    await iterator.return?.();
  }
  return out;
}

/** Phase a: each answer in a fresh chat on alternating API nodes, `concurrency` at a time. */
export async function measureTtft(apiUrls: readonly string[], options: TtftOptions, timeoutMs: number): Promise<TtftResult> {
  const expected = syntheticAnswer(options.tokens);
  const failures = new Problems();
  const mismatches = new Problems();
  const violations = new Problems();

  const confirms: number[] = [];
  const afterConfirm: number[] = [];
  const one = async (index: number, record: boolean): Promise<number | undefined> => {
    const baseUrl = apiUrls[index % apiUrls.length] ?? '';
    let session: ChatSession | undefined;
    try {
      const chatId = await new HttpClient(baseUrl).createChat('bench-ttft');
      session = await ChatSession.open('ws', baseUrl, chatId);
      const answer = await session.ask(REQUEST.text, 'bench-ttft', timeoutMs);
      const terminal = await answer.waitTerminal(timeoutMs);
      if (!record) return undefined;
      violations.addAll(session.allViolations());
      if (terminal.status !== 'complete' || answer.text !== expected) {
        mismatches.add(`${answer.generationId}: ${terminal.status}, ${answer.text.length}/${expected.length} chars`);
      }
      if (answer.sentAt !== undefined && answer.confirmedAt !== undefined && answer.firstPartialAt !== undefined) {
        confirms.push(answer.confirmedAt - answer.sentAt);
        afterConfirm.push(answer.firstPartialAt - answer.confirmedAt);
      }
      return answer.ttft;
    } catch (err) {
      if (record) failures.add(errorText(err));
      return undefined;
    } finally {
      await session?.close();
    }
  };

  const warmupRuns = Array.from({ length: options.warmup }, (_, i) => i);
  await mapLimit(warmupRuns, options.concurrency, (i) => one(i, false));
  await inProcessTtft(options.tokens, options.tokensPerSecond, Math.max(options.warmup, 1));

  const runs = Array.from({ length: options.answers }, (_, i) => i);
  const queue = (await mapLimit(runs, options.concurrency, (i) => one(i, true))).filter((v): v is number => v !== undefined);
  const inProcess = await inProcessTtft(options.tokens, options.tokensPerSecond, options.answers);
  const overhead = queue.map((value, i) => value - (inProcess[i] ?? 0));

  return {
    answers: options.answers,
    concurrency: options.concurrency,
    warmup: options.warmup,
    tokens: options.tokens,
    tokensPerSecond: options.tokensPerSecond,
    queueMs: summarize(queue),
    confirmMs: summarize(confirms),
    confirmToFirstPartialMs: summarize(afterConfirm),
    inProcessMs: summarize(inProcess),
    overheadMs: summarize(overhead),
    failures: failures.count,
    mismatches: mismatches.count,
    violations: violations.count,
    problems: [...failures.examples, ...mismatches.examples, ...violations.examples],
  };
}
