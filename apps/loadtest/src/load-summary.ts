import { HttpClient } from '@ragstream/testing';
import type { AnswerTracker } from './answer-tracker.ts';
import type { ChatSession } from './chat-session.ts';
import { mapLimit } from './deferred.ts';
import { errorText, Problems } from './problems.ts';
import { checkStored, storedAnswers } from './stored-answers.ts';

export interface AnswerRecord {
  answer: AnswerTracker;
  session: ChatSession;
  /** performance.now() when a stop for it was sent, if one was. */
  stopSentAt?: number;
}

export interface AnswerCounts {
  sent: number;
  completed: number;
  stopped: number;
  failed: number;
  /** No terminal frame before the end of the run (or the connection was lost). */
  noTerminal: number;
  stopRequested: number;
  /** A stop was sent but the answer had already completed. */
  stopTooLate: number;
}

export interface AnswerTally {
  counts: AnswerCounts;
  ttft: number[];
  durations: number[];
  stopLatency: number[];
  fullTextMismatches: number;
  firstSent: number;
  lastTerminal: number;
}

/** Counts every answer by how it ended and collects its timings; unexpected endings go to `errors`. */
export function classifyAnswers(records: readonly AnswerRecord[], expectedText: string | undefined, errors: Problems): AnswerTally {
  const tally: AnswerTally = {
    counts: { sent: records.length, completed: 0, stopped: 0, failed: 0, noTerminal: 0, stopRequested: 0, stopTooLate: 0 },
    ttft: [],
    durations: [],
    stopLatency: [],
    fullTextMismatches: 0,
    firstSent: Number.POSITIVE_INFINITY,
    lastTerminal: Number.NEGATIVE_INFINITY,
  };
  const { counts } = tally;
  for (const { answer, stopSentAt } of records) {
    if (answer.sentAt !== undefined) tally.firstSent = Math.min(tally.firstSent, answer.sentAt);
    if (answer.ttft !== undefined) tally.ttft.push(answer.ttft);
    if (stopSentAt !== undefined) counts.stopRequested += 1;
    const terminal = answer.terminal;
    if (!terminal || answer.terminalAt === undefined) {
      counts.noTerminal += 1;
      continue;
    }
    tally.lastTerminal = Math.max(tally.lastTerminal, answer.terminalAt);
    if (answer.sentAt !== undefined) tally.durations.push(answer.terminalAt - answer.sentAt);
    if (terminal.status === 'complete') {
      counts.completed += 1;
      if (stopSentAt !== undefined) counts.stopTooLate += 1;
      if (expectedText !== undefined && answer.text !== expectedText) tally.fullTextMismatches += 1;
    } else if (terminal.status === 'stopped') {
      counts.stopped += 1;
      if (stopSentAt === undefined) errors.add(`${answer.generationId}: stopped although no stop was sent`);
      else tally.stopLatency.push(answer.terminalAt - stopSentAt);
    } else {
      counts.failed += 1;
      errors.add(`${answer.generationId}: failed: ${terminal.error ?? '(no error text)'}`);
    }
  }
  return tally;
}

/** Stored answer == received text and status, for every answer that ended; one paginated read per chat. */
export async function checkStoredAnswers(
  sessions: readonly ChatSession[],
  records: readonly AnswerRecord[],
  errors: Problems,
): Promise<{ checked: number; problems: Problems }> {
  const problems = new Problems(10);
  let checked = 0;
  await mapLimit(sessions, 8, async (session) => {
    const ended = records.filter((r) => r.session === session && r.answer.terminal);
    if (ended.length === 0) return;
    try {
      const saved = await storedAnswers(new HttpClient(session.baseUrl), session.chatId);
      for (const { answer } of ended) {
        checked += 1;
        const check = checkStored(saved.get(answer.generationId), answer.text, answer.terminal?.status ?? '');
        if (!check.ok) problems.add(`${answer.generationId}: ${check.problem ?? ''}`);
      }
    } catch (err) {
      errors.add(`stored answers of chat ${session.chatId}: ${errorText(err)}`);
    }
  });
  return { checked, problems };
}
