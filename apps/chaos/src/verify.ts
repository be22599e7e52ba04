import type { ChatMessage, Page } from '@ragstream/protocol';
import { MAX_PAGE_LIMIT } from '@ragstream/protocol';
import type { HttpClient } from '@ragstream/testing';
import type { Answer } from './answers.ts';
import type { ChaosClient } from './chaos-client.ts';
import type { ChaosEnv } from './chaos-env.ts';

export interface AnswerCounts {
  answers: number;
  completed: number;
  stopped: number;
  failed: number;
  lostFrames: number;
  duplicatedFrames: number;
  storedMismatch: number;
  unfinished: number;
}

export interface Verification extends AnswerCounts {
  problems: string[];
  /** Stored bot messages per generation id (all of them, for scenario-specific checks). */
  stored: Map<string, ChatMessage[]>;
  /** Every chat's messages, oldest first. */
  messages: Map<string, ChatMessage[]>;
}

export interface VerifyOptions {
  /** Clients besides each answer's own that watch the same chats. */
  observers?: ChaosClient[];
  /** How long answers may take to reach their terminal frame, from now. */
  terminalTimeoutMs: number;
  /** After the last terminal frame: how long Redis state may take to settle. */
  settleTimeoutMs?: number;
}

const JOB_STATES_UNFINISHED = ['active', 'waiting', 'delayed', 'prioritized', 'paused', 'waiting-children'] as const;

/**
 * The checks every scenario makes, after waiting on terminal frames: exactly one
 * terminal frame per answer (client and log), no seq gap or duplicate at any client,
 * stored text and status equal to what clients received of the final attempt, exactly
 * one bot message per generation, and nothing left generating in Redis for the prefix.
 */
export async function verify(env: ChaosEnv, answers: Answer[], options: VerifyOptions): Promise<Verification> {
  const problems: string[] = [];
  const deadline = performance.now() + options.terminalTimeoutMs;
  await Promise.all(answers.map((a) => a.client.view(a.generationId).waitTerminal(Math.max(0, deadline - performance.now()))));

  const unfinishedIds = await settle(env, options.settleTimeoutMs ?? 15_000);
  const http = env.liveHttp();
  const clientsByChat = new Map<string, ChaosClient[]>();
  for (const client of [...answers.map((a) => a.client), ...(options.observers ?? [])]) {
    const list = clientsByChat.get(client.chatId) ?? [];
    if (!list.includes(client)) list.push(client);
    clientsByChat.set(client.chatId, list);
  }
  const messages = new Map<string, ChatMessage[]>();
  await Promise.all([...clientsByChat.keys()].map(async (chatId) => messages.set(chatId, await allMessages(http, chatId))));
  const stored = new Map<string, ChatMessage[]>();
  for (const list of messages.values()) {
    for (const m of list) {
      if (m.role !== 'bot' || m.generationId === undefined) continue;
      stored.set(m.generationId, [...(stored.get(m.generationId) ?? []), m]);
    }
  }

  const counts: AnswerCounts = {
    answers: answers.length,
    completed: 0,
    stopped: 0,
    failed: 0,
    lostFrames: 0,
    duplicatedFrames: 0,
    storedMismatch: 0,
    unfinished: unfinishedIds.size,
  };
  for (const id of unfinishedIds) problems.push(`${id}: still unfinished in Redis after settling (meta, FIFO or BullMQ job)`);

  for (const answer of answers) {
    const g = answer.generationId;
    const own = answer.client.view(g);
    const terminal = own.terminal;
    const logFrames = await readLog(env, answer.chatId, g);
    const logTerminals = logFrames.filter((f) => f.mt === 'chat_message_bot_complete');
    if (logTerminals.length !== 1) problems.push(`${g}: ${logTerminals.length} terminal frames in the Redis log (want exactly 1)`);
    let logAttempt = 0;
    for (const [i, f] of logFrames.entries()) {
      if (f.seq !== i + 1) {
        problems.push(`${g}: the Redis log holds seq ${f.seq} at position ${i + 1}`);
        break;
      }
      if (f.attempt < logAttempt) {
        problems.push(
          `${g}: the Redis log has ${f.mt} seq ${f.seq} of attempt ${f.attempt} after attempt ${logAttempt} began (a superseded attempt wrote)`,
        );
        break;
      }
      logAttempt = f.attempt;
    }
    const lastInLog = logFrames.at(-1);
    if (logTerminals.length > 0 && lastInLog?.mt !== 'chat_message_bot_complete')
      problems.push(`${g}: frames follow the terminal frame in the Redis log`);
    if (!terminal) {
      problems.push(`${g} (${answer.client.label}): no terminal frame at the client`);
    } else {
      if (terminal.status === 'complete') counts.completed += 1;
      else if (terminal.status === 'stopped') counts.stopped += 1;
      else counts.failed += 1;
      if (!answer.allowed.includes(terminal.status)) {
        problems.push(
          `${g}: ended ${terminal.status}${terminal.error ? ` (${terminal.error})` : ''}, expected ${answer.allowed.join(' or ')}`,
        );
      }
      if (terminal.status === 'complete' && answer.expectedText !== undefined && terminal.text !== answer.expectedText) {
        problems.push(`${g}: completed with ${terminal.text.length} chars, the full answer has ${answer.expectedText.length}`);
      }
    }

    const finalSeq = Math.max(logFrames.length, ...[...(clientsByChat.get(answer.chatId) ?? [])].map((c) => c.view(g).maxSeq));
    let mismatch = false;
    for (const client of clientsByChat.get(answer.chatId) ?? []) {
      const view = client.view(g);
      const missing = view.missing(finalSeq);
      counts.lostFrames += missing.length;
      counts.duplicatedFrames += view.duplicates;
      if (missing.length > 0)
        problems.push(`${g} at ${client.label}: ${missing.length} frames never arrived (seq ${compactRanges(missing)} of ${finalSeq})`);
      if (view.duplicates > 0) problems.push(`${g} at ${client.label}: ${view.duplicates} duplicated frames`);
      if (view.terminals > 1) problems.push(`${g} at ${client.label}: ${view.terminals} terminal frames`);
      for (const violation of view.violations.slice(0, 3)) problems.push(`${g} at ${client.label}: ${violation}`);
      if (view.violations.length > 3) problems.push(`${g} at ${client.label}: ${view.violations.length - 3} more violations`);
      if (view.terminal && view.terminal.text !== view.text) {
        mismatch = true;
        problems.push(
          `${g} at ${client.label}: terminal text (${view.terminal.text.length} chars) differs from the deltas of the final attempt (${view.text.length} chars)`,
        );
      }
    }

    const bots = stored.get(g) ?? [];
    const logged = logText(logFrames);
    if (bots[0] && terminal && logged !== bots[0].text) {
      mismatch = true;
      problems.push(
        `${g}: the Redis log's final attempt holds ${logged.length} chars of deltas, the stored text ${bots[0].text.length}: a client resuming from the log sees other text than the stored answer`,
      );
    }
    if (bots.length !== 1) problems.push(`${g}: ${bots.length} stored bot messages (want exactly 1)`);
    const bot = bots[0];
    if (bot && terminal) {
      if (bot.text !== own.text) {
        mismatch = true;
        problems.push(
          `${g}: stored text (${bot.text.length} chars) differs from what the client received of attempt ${own.currentAttempt} (${own.text.length} chars)`,
        );
      }
      if (bot.status !== terminal.status) {
        mismatch = true;
        problems.push(`${g}: stored status ${bot.status ?? '(none)'}, terminal frame says ${terminal.status}`);
      }
      if (bot.id !== terminal.messageId) {
        mismatch = true;
        problems.push(`${g}: terminal frame names message ${terminal.messageId}, stored bot message is ${bot.id}`);
      }
    } else if (bot && !terminal && bot.status === undefined) {
      mismatch = true;
    }
    if (mismatch) counts.storedMismatch += 1;
  }

  for (const chatId of clientsByChat.keys()) {
    const status = await http.get<{ generating: unknown }>(`/chat/ws/${chatId}/status`);
    if (status.status === 200 && status.body.generating !== null) {
      problems.push(`chat ${chatId}: status endpoint still reports generating ${JSON.stringify(status.body.generating)}`);
    }
  }
  for (const client of clientsByChat.values()) for (const c of client) problems.push(...c.problems);
  return { ...counts, problems, stored, messages };
}

/** Polls Redis until no generation of the prefix is unfinished, or the timeout; returns what is left. */
export async function settle(env: ChaosEnv, timeoutMs: number): Promise<Set<string>> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const left = await unfinishedGenerations(env);
    if (left.size === 0 || performance.now() > deadline) return left;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** Generation ids with an unfinished meta hash, a FIFO entry, or an active / waiting / delayed BullMQ job. */
export async function unfinishedGenerations(env: ChaosEnv): Promise<Set<string>> {
  const left = new Set<string>();
  const redis = env.inspect;
  const genPrefix = env.keys.generationPrefix;
  for (const key of await scanKeys(env, `${genPrefix}*`)) {
    if (!key.endsWith(':meta')) continue;
    const done = await redis.hget(key, 'done');
    // `{chatId}:generationId:meta`
    const tagged = key.slice(genPrefix.length, -':meta'.length);
    if (done !== '1') left.add(tagged.slice(tagged.indexOf('}:') + 2));
  }
  for (const key of await scanKeys(env, `${env.keys.prefix}:chat:*:fifo`)) {
    for (const id of await redis.lrange(key, 0, -1)) left.add(id);
  }
  const jobs = await env.queue.getJobs([...JOB_STATES_UNFINISHED]);
  for (const job of jobs) if (job?.id) left.add(job.id);
  return left;
}

async function scanKeys(env: ChaosEnv, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await env.inspect.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    keys.push(...batch);
  } while (cursor !== '0');
  return keys;
}

export interface LoggedFrame {
  mt: string;
  seq: number;
  attempt: number;
  status?: string;
  delta?: string;
}

export async function readLog(env: ChaosEnv, chatId: string, generationId: string): Promise<LoggedFrame[]> {
  const raw = await env.inspect.lrange(env.keys.generationLog(chatId, generationId), 0, -1);
  return raw.map((line) => JSON.parse(line) as LoggedFrame);
}

/** The text a client replaying the whole log shows: deltas of the latest attempt. */
export function logText(frames: LoggedFrame[]): string {
  let attempt = 0;
  let text = '';
  for (const frame of frames) {
    if (frame.attempt > attempt) {
      attempt = frame.attempt;
      text = '';
    }
    if (frame.mt === 'chat_message_bot_partial' && frame.attempt === attempt) text += frame.delta ?? '';
  }
  return text;
}

async function allMessages(http: HttpClient, chatId: string): Promise<ChatMessage[]> {
  const items: ChatMessage[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const { status, body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages?limit=${MAX_PAGE_LIMIT}${query}`);
    if (status !== 200) throw new Error(`GET /chat/${chatId}/messages: ${status} ${JSON.stringify(body)}`);
    items.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor !== null);
  return items;
}

/** 3,4,5,9 -> "3-5,9". */
export function compactRanges(values: number[]): string {
  const parts: string[] = [];
  let start = values[0];
  let prev = values[0];
  for (const value of [...values.slice(1), Number.NaN]) {
    if (start === undefined || prev === undefined) break;
    if (value === prev + 1) {
      prev = value;
      continue;
    }
    parts.push(start === prev ? String(start) : `${start}-${prev}`);
    start = value;
    prev = value;
  }
  return parts.length > 8 ? `${parts.slice(0, 8).join(',')},…` : parts.join(',');
}
