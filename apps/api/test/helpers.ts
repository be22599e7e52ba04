import { join } from 'node:path';
import { GenerationQueue } from '@ragstream/lifecycle';
import type { Chat, ChatMessage, ChatStatus, ErrorCode, ErrorFrame, Page } from '@ragstream/protocol';
import { RedisKeys } from '@ragstream/protocol';
import { createLogger } from '@ragstream/runtime';
import { SqliteChatStore } from '@ragstream/store';
import type { FrameCollector, HttpClient, HttpResult, TestCluster } from '@ragstream/testing';
import { TEST_REDIS_URL } from '@ragstream/testing';
import { Redis } from 'ioredis';
import { expect } from 'vitest';

export type { Chat, ChatMessage, ChatStatus, Page };

/** Well-formed (24 hex digits) ids that no store ever issued, and ids that are not ids at all. */
export const UNKNOWN_ID = '0123456789abcdef01234567';
export const MALFORMED_IDS = ['not-an-id', '0123456789ABCDEF01234567', '0123456789abcdef0123456', 'zz23456789abcdef01234567'];

export const HEX_ID = /^[0-9a-f]{24}$/;

/** Asserts a REST error response: the status and the JSON `{ code, message }` body. */
export function expectError(result: HttpResult, status: number, code: ErrorCode): void {
  expect({ status: result.status, code: (result.body as { code?: unknown } | undefined)?.code }).toEqual({ status, code });
  const body = result.body as Record<string, unknown>;
  expect(Object.keys(body).sort()).toEqual(['code', 'message']);
  expect(typeof body.message).toBe('string');
  expect((body.message as string).length).toBeGreaterThan(0);
}

/** All messages of a chat, oldest first (one page; tests keep chats small). */
export async function messagesOf(http: HttpClient, chatId: string): Promise<ChatMessage[]> {
  const result = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages?limit=200`);
  expect(result.status).toBe(200);
  return result.body.items;
}

/**
 * Polls an HTTP-observable condition until it holds (for state with no event to wait on,
 * such as a presence count going down after a client left). Fails with the last value seen.
 */
export async function eventually<T>(read: () => Promise<T>, accept: (value: T) => boolean, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: T = await read();
  while (!accept(last)) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms; last value ${JSON.stringify(last)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
    last = await read();
  }
  return last;
}

/** The cluster's SQLite store, opened read-side by the test to check what was (not) persisted. */
export async function openStore(cluster: TestCluster): Promise<SqliteChatStore> {
  const store = new SqliteChatStore({ filename: join(cluster.dataDir, 'ragstream.sqlite') });
  await store.init();
  return store;
}

/** The generation jobs BullMQ holds for the cluster's prefix, in any state. */
export async function generationJobs(cluster: TestCluster): Promise<{ id: string; chatId: string; text: string }[]> {
  const redis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  const keys = new RedisKeys(cluster.prefix);
  const queue = new GenerationQueue(redis, keys, createLogger('test', 'error'));
  try {
    const jobs = await queue.queue.getJobs([
      'active',
      'waiting',
      'delayed',
      'completed',
      'failed',
      'prioritized',
      'waiting-children',
      'paused',
    ]);
    return jobs.map((job) => ({ id: job.id ?? '', chatId: job.data.chatId, text: job.data.text }));
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

export interface RawResponse {
  status: number;
  retryAfter: string | null;
  body: Record<string, unknown>;
}

/** A request whose headers the test reads (Retry-After). */
export async function raw(
  baseUrl: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<RawResponse> {
  const response = await fetch(`${baseUrl}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    retryAfter: response.headers.get('retry-after'),
    body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
  };
}

/** The error frames a client received, in order. */
export function errorsOf(collector: FrameCollector): ErrorFrame[] {
  return collector.frames.filter((f): f is ErrorFrame => f.mt === 'error');
}

/** The error frame answering a message with this clientMessageId. */
export function errorFor(collector: FrameCollector, clientMessageId: string): Promise<ErrorFrame> {
  return collector.waitForMt('error', (f) => f.clientMessageId === clientMessageId, 15_000);
}
