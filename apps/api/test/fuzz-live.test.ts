import type { ErrorFrame, ParsedClientFrame } from '@ragstream/protocol';
import {
  CLIENT_FRAME_TYPES,
  createChatBodySchema,
  createMessageBodySchema,
  ERROR_CODES,
  parseClientFrame,
  parseClientFrameText,
  updateChatBodySchema,
} from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import type { FrameCollector } from '@ragstream/testing';
import { HttpClient, SioChatClient, TestCluster, WsChatClient } from '@ragstream/testing';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ZodType } from 'zod';
import { generationJobs, messagesOf } from './helpers.ts';

/** `npm run fuzz` sets FUZZ_RUNS (10,000 per property); `npm test` runs a couple of hundred. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 200);
/** Each case is a round trip to the node (two for REST), a few milliseconds on a busy machine. */
const TIMEOUT_MS = 60_000 + RUNS * 50;
const TOKENS = 3;
const MAX_MESSAGE_BYTES = 64;
const REFUSALS = new Set<string>(['invalid_json', 'invalid_frame', 'unknown_message_type', 'message_too_large']);
const KNOWN_CODES = new Set<string>(ERROR_CODES);
/** Socket.IO clients may not emit these. */
const RESERVED_EVENTS = new Set(['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener']);

const upload = fc.record(
  {
    mt: fc.constant('message_upload'),
    message: fc.oneof(fc.string({ minLength: 1, maxLength: 8 }), fc.string({ minLength: MAX_MESSAGE_BYTES + 1, maxLength: 200 })),
    userId: fc.string({ maxLength: 12 }),
    clientMessageId: fc.string({ maxLength: 12 }),
    timezone: fc.string({ maxLength: 80 }),
    selectedLanguage: fc.string({ maxLength: 20 }),
  },
  { requiredKeys: [] },
);
/** A plausible frame with one field given any value, or anything at all. */
const frameLike = fc.oneof(
  fc.tuple(upload, fc.constantFrom('mt', 'message', 'userId', 'clientMessageId'), fc.anything()).map(([frame, key, value]) => ({
    ...frame,
    [key]: value,
  })),
  upload,
  fc.jsonValue(),
  fc.anything(),
);
const frameText = fc.oneof(
  fc.string(),
  fc.json(),
  frameLike.map((v) => JSON.stringify(v) ?? 'undefined'),
);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** What the Socket.IO gateway hands the chat connection for an event and its payload (after the wire's JSON). */
function sioInput(event: string, payload: unknown): unknown {
  const wire: unknown = payload === undefined ? undefined : JSON.parse(JSON.stringify(payload) ?? 'null');
  if ((CLIENT_FRAME_TYPES as readonly string[]).includes(event))
    return wire === undefined ? { mt: event } : isRecord(wire) ? { ...wire, mt: event } : wire;
  if (event === 'message') return wire;
  return { ...(isRecord(wire) ? wire : {}), mt: event };
}

function parseLikeServer(input: unknown): ParsedClientFrame {
  return typeof input === 'string' ? parseClientFrameText(input, MAX_MESSAGE_BYTES) : parseClientFrame(input, MAX_MESSAGE_BYTES);
}

/** The n-th frame (1-based) a client received, which must be an error frame: nothing else happens on the chat meanwhile. */
async function nthFrame(collector: FrameCollector, n: number): Promise<ErrorFrame> {
  // A count, not a scan of every frame so far: ten thousand cases must not take quadratic time.
  await collector.waitFor(() => collector.frames.length >= n, 10_000);
  const frame = collector.frames[n - 1];
  if (frame?.mt !== 'error') throw new Error(`frame ${n} is not an error frame: ${JSON.stringify(frame)}`);
  return frame;
}

describe('fuzzed input against a live API node and worker (fast-check)', () => {
  let cluster: TestCluster;
  let http: HttpClient;
  let chatId: string;
  let otherChatId: string;
  const secret = `secret-of-user-2-${Date.now()}`;
  let answered = 0;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: {
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: String(TOKENS),
        SYNTHETIC_TOKENS_PER_SECOND: '1000',
        MAX_MESSAGE_BYTES: String(MAX_MESSAGE_BYTES),
        // Thousands of frames a second on one connection: the frame rate limit has its own tests.
        FRAMES_PER_SECOND_PER_CONNECTION: '0',
      },
    });
    http = new HttpClient(cluster.api(0));
    chatId = await http.createChat('user-1');
    otherChatId = await http.createChat('user-2');
    expect((await http.post(`/chat/${otherChatId}/messages`, { text: secret, userId: 'user-2' })).status).toBe(201);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** Nothing was stored or enqueued but the valid exchanges; the other user's chat is untouched. */
  async function expectOnlyValidExchanges(): Promise<void> {
    const texts = (await messagesOf(http, chatId)).map((m) => [m.role, m.text]);
    expect(texts).toEqual(
      Array.from({ length: answered }, (_, i) => [
        ['user', `valid ${i}`],
        ['bot', syntheticAnswer(TOKENS)],
      ]).flat(),
    );
    expect((await messagesOf(http, otherChatId)).map((m) => m.text)).toEqual([secret]);
    expect((await generationJobs(cluster)).filter((job) => job.chatId === chatId)).toHaveLength(answered);
    expect((await http.get<{ items: unknown[] }>('/chat/user/user-1?limit=100')).body.items).toHaveLength(1);
  }

  /** A valid message after the garbage: confirmed and answered, so the connection is still usable. */
  async function validExchange(send: (frame: unknown) => void, collector: FrameCollector): Promise<void> {
    const clientMessageId = `valid-${answered}`;
    send({ mt: 'message_upload', message: `valid ${answered}`, userId: 'user-1', clientMessageId });
    const confirm = await collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === clientMessageId);
    expect((await collector.waitForTerminal(confirm.generationId ?? '')).status).toBe('complete');
    answered += 1;
  }

  function expectRefusal(error: ErrorFrame): void {
    expect(REFUSALS.has(error.code)).toBe(true);
    expect(JSON.stringify(error)).not.toContain(secret);
    expect(JSON.stringify(error)).not.toContain(otherChatId);
  }

  it(
    'raw WebSocket: every malformed frame gets one error frame, the connection stays usable, nothing is stored',
    async () => {
      const ws = await WsChatClient.connect(cluster.api(0), chatId);
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(
          frameText.filter((text) => !parseClientFrameText(text, MAX_MESSAGE_BYTES).ok),
          async (text) => {
            ws.send(text);
            sent += 1;
            expectRefusal(await nthFrame(ws.collector, sent));
            expect(ws.isOpen).toBe(true);
          },
        ),
        { numRuns: RUNS },
      );
      console.log(`fuzz live: raw WebSocket: ${RUNS} cases, ${sent} frames`);
      await validExchange((frame) => ws.send(frame), ws.collector);
      await expectOnlyValidExchanges();
      await ws.close();
    },
    TIMEOUT_MS,
  );

  it(
    'Socket.IO: any event with any payload is refused with one error frame; the socket stays usable',
    async () => {
      const sio = await SioChatClient.connect(cluster.api(0), { chatId, userId: 'user-1' });
      const event = fc.oneof(
        fc.constantFrom(...CLIENT_FRAME_TYPES, 'message'),
        fc.string({ minLength: 1, maxLength: 20 }).filter((e) => !RESERVED_EVENTS.has(e)),
      );
      let sent = 0;
      await fc.assert(
        fc.asyncProperty(
          fc
            .tuple(event, fc.option(fc.oneof(frameLike, frameText), { nil: undefined }))
            .filter(([e, p]) => !parseLikeServer(sioInput(e, p)).ok),
          async ([name, payload]) => {
            sio.emit(name, payload);
            sent += 1;
            expectRefusal(await nthFrame(sio.collector, sent));
            expect(sio.socket.connected).toBe(true);
          },
        ),
        { numRuns: RUNS },
      );
      console.log(`fuzz live: Socket.IO: ${RUNS} cases`);
      await validExchange((frame) => sio.emit('message', frame), sio.collector);
      await expectOnlyValidExchanges();
      sio.close();
    },
    TIMEOUT_MS,
  );

  it(
    'REST: malformed bodies and ids get a 4xx JSON error with a known code, no stack trace, and change nothing',
    async () => {
      const targets: { method: string; path: () => string; schema: ZodType }[] = [
        { method: 'POST', path: () => '/chat/', schema: createChatBodySchema },
        { method: 'PUT', path: () => `/chat/${chatId}`, schema: updateChatBodySchema },
        { method: 'POST', path: () => `/chat/${chatId}/messages`, schema: createMessageBodySchema },
      ];
      const body = fc.oneof(
        frameText,
        frameLike.map((v) => JSON.stringify(v) ?? ''),
      );
      const isValid = (schema: ZodType, text: string): boolean => {
        try {
          return schema.safeParse(JSON.parse(text)).success;
        } catch {
          return false;
        }
      };
      const title = (await http.get<{ title: string }>(`/chat/${chatId}`)).body.title;
      await fc.assert(
        fc.asyncProperty(
          fc.tuple(fc.constantFrom(...targets), body).filter(([target, text]) => !isValid(target.schema, text)),
          async ([target, text]) => {
            const response = await fetch(`${cluster.api(0)}${target.path()}`, {
              method: target.method,
              headers: { 'content-type': 'application/json' },
              body: text,
            });
            await expectCleanRefusal(response);
          },
        ),
        { numRuns: RUNS },
      );
      const paths = ['/chat/%s', '/chat/%s/messages', '/chat/%s/full', '/chat/ws/%s/status', '/chat/user/%s?limit=%s'];
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...paths), fc.string({ minLength: 1, maxLength: 40 }), async (pattern, id) => {
          const path = pattern.replaceAll('%s', encodeURIComponent(id));
          const response = await fetch(`${cluster.api(0)}${path}`);
          if (response.status === 200) {
            // Only another user id's (empty) chat list can be found; never the other user's chat.
            expect(pattern.startsWith('/chat/user/')).toBe(true);
            expect(await response.text()).not.toContain(otherChatId);
            return;
          }
          await expectCleanRefusal(response);
        }),
        { numRuns: RUNS },
      );
      console.log(`fuzz live: REST: ${RUNS} bodies, ${RUNS} ids`);
      expect((await http.get<{ title: string }>(`/chat/${chatId}`)).body.title).toBe(title);
      await expectOnlyValidExchanges();
    },
    TIMEOUT_MS,
  );

  async function expectCleanRefusal(response: Response): Promise<void> {
    const text = await response.text();
    expect(response.status, text).toBeGreaterThanOrEqual(400);
    expect(response.status, text).toBeLessThan(500);
    const parsed = JSON.parse(text) as { code?: string; message?: string };
    expect(KNOWN_CODES.has(parsed.code ?? '')).toBe(true);
    expect(text).not.toMatch(/\bat .+:\d+:\d+|node_modules|\.ts\b/);
    expect(text).not.toContain(secret);
  }

  it('the processes are still up and ready after all of it', async () => {
    expect((await fetch(`${cluster.api(0)}/readyz`)).status).toBe(200);
    expect(cluster.apis.every((p) => p.running) && cluster.workers.every((p) => p.running)).toBe(true);
  });
});
