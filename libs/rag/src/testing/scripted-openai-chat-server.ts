/**
 * TEST DOUBLE - not a model and not for production.
 *
 * A scripted OpenAI-compatible HTTP server (node:http, free port on 127.0.0.1)
 * for testing clients such as `OpenAiChatModel` with the real `openai` SDK over
 * real sockets. Each `POST /v1/chat/completions` takes the next reply from a
 * script queue: text tokens (streamed as OpenAI SSE chunks with a per-token
 * delay, or as one JSON completion), an HTTP error with an OpenAI-style error
 * body, a hang (never answers: for timeouts), a stall or a dropped connection
 * mid-stream. Every request is recorded with its model and messages, and with
 * whether the client closed the connection before the reply finished (how a
 * test proves that abort cancels the HTTP request).
 *
 * `POST /v1/embeddings` returns deterministic hashed bag-of-words vectors (texts
 * that share words are similar), in float or base64 encoding as the SDK asks;
 * it has its own optional script queue for errors, hangs and given vectors
 * (unnormalised, out of order, of the wrong length: what real servers may send).
 */
import { createHash } from 'node:crypto';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export type ScriptedChatReply =
  /** Answers with these tokens; streamed one SSE chunk per token when the request asks for a stream. */
  | { type: 'text'; tokens: readonly string[]; tokenDelayMs?: number; firstByteDelayMs?: number; finishReason?: string }
  /** Answers with this status and `{ error: { message, type, param, code } }`. */
  | {
      type: 'http-error';
      status: number;
      message?: string;
      errorType?: string;
      code?: string | null;
      headers?: Readonly<Record<string, string>>;
    }
  /** Reads the request and never answers (no status line): the client's timeout must fire. */
  | { type: 'hang' }
  /** Streams these tokens, then keeps the connection open without sending anything more. */
  | { type: 'stall'; tokens: readonly string[]; tokenDelayMs?: number }
  /** Streams these tokens, then destroys the socket without finishing the response. */
  | { type: 'drop'; tokens: readonly string[]; tokenDelayMs?: number }
  /** Streams these tokens, then an in-stream `data: {"error": ...}` event, as OpenAI does on mid-stream failures. */
  | { type: 'stream-error'; tokens: readonly string[]; message?: string; errorType?: string };

export type ScriptedChatStep = ScriptedChatReply | ((request: RecordedOpenAiRequest) => ScriptedChatReply);

export type ScriptedEmbeddingsReply =
  | Extract<ScriptedChatReply, { type: 'http-error' } | { type: 'hang' }>
  /** Answers with exactly these `data` items, in this order (encoded as the request asks). */
  | { type: 'embeddings'; data: readonly { index: number; embedding: readonly number[] }[] };

export type ScriptedEmbeddingsStep = ScriptedEmbeddingsReply | ((request: RecordedOpenAiRequest) => ScriptedEmbeddingsReply);

export interface RecordedOpenAiRequest {
  /** 0-based position among all requests this server received. */
  readonly index: number;
  readonly path: string;
  readonly model: string | undefined;
  /** Chat requests: the messages sent. */
  readonly messages: readonly { role: string; content: string }[];
  /** Embeddings requests: the input texts. */
  readonly input: readonly string[];
  readonly stream: boolean;
  readonly body: unknown;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  /** The client closed the connection before the reply was complete. */
  clientClosed: boolean;
  /** The reply was sent in full. */
  completed: boolean;
}

export interface ScriptedOpenAiChatServerOptions {
  /** Used when the script queue is empty. Default: a 400 error naming the problem (400, so that the SDK does not retry it). */
  fallback?: ScriptedChatStep;
  /** Dimensions of embeddings when the request does not ask for `dimensions`. Default 16. */
  embeddingDimensions?: number;
}

const CREATED = 1_700_000_000;

export class ScriptedOpenAiChatServer {
  readonly requests: RecordedOpenAiRequest[] = [];
  readonly #server: Server;
  readonly #chatScript: ScriptedChatStep[] = [];
  readonly #embeddingsScript: ScriptedEmbeddingsStep[] = [];
  readonly #timers = new Set<NodeJS.Timeout>();
  readonly #settleWaiters = new Map<number, (() => void)[]>();
  readonly #arrivalWaiters: (() => void)[] = [];
  /** Responses this server cut off itself ('drop', close()): their close is not the client's doing. */
  readonly #closedByServer = new WeakSet<ServerResponse>();
  #closing = false;
  readonly #fallback: ScriptedChatStep;
  readonly #dimensions: number;
  #port = 0;

  private constructor(options: ScriptedOpenAiChatServerOptions) {
    this.#fallback = options.fallback ?? {
      type: 'http-error',
      status: 400,
      message: 'scripted server: no reply queued for this request',
      errorType: 'invalid_request_error',
    };
    this.#dimensions = options.embeddingDimensions ?? 16;
    this.#server = createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) res.writeHead(500).end(String(error));
        else res.destroy();
      });
    });
  }

  /** Starts a server on a free port of 127.0.0.1. */
  static async start(options: ScriptedOpenAiChatServerOptions = {}): Promise<ScriptedOpenAiChatServer> {
    const server = new ScriptedOpenAiChatServer(options);
    await new Promise<void>((resolve, reject) => {
      server.#server.once('error', reject);
      server.#server.listen(0, '127.0.0.1', () => resolve());
    });
    server.#port = (server.#server.address() as AddressInfo).port;
    return server;
  }

  /** Base URL for the SDK, ending in /v1. */
  get baseURL(): string {
    return `http://127.0.0.1:${this.#port}/v1`;
  }

  /** Queues replies for the next chat-completion requests, in order. */
  enqueue(...steps: ScriptedChatStep[]): this {
    this.#chatScript.push(...steps);
    return this;
  }

  /** Queues replies for the next embeddings requests, in order; without any, they get deterministic embeddings. */
  enqueueEmbeddings(...steps: ScriptedEmbeddingsStep[]): this {
    this.#embeddingsScript.push(...steps);
    return this;
  }

  get pendingReplies(): number {
    return this.#chatScript.length;
  }

  chatRequests(): RecordedOpenAiRequest[] {
    return this.requests.filter((request) => request.path.endsWith('/chat/completions'));
  }

  /** Resolves once request `index` has arrived; rejects after `timeoutMs`. */
  async waitForRequest(index: number, timeoutMs = 2_000): Promise<RecordedOpenAiRequest> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const request = this.requests[index];
      if (request) return request;
      const left = deadline - performance.now();
      if (left <= 0) throw new Error(`request ${index} did not arrive in ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#arrivalWaiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** Resolves once request `index` was completed or closed by the client; rejects after `timeoutMs`. */
  async waitUntilSettled(index: number, timeoutMs = 2_000): Promise<RecordedOpenAiRequest> {
    const settledNow = (): RecordedOpenAiRequest | undefined => {
      const request = this.requests[index];
      return request && (request.completed || request.clientClosed) ? request : undefined;
    };
    const now = settledNow();
    if (now) return now;
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`request ${index} did not settle in ${timeoutMs} ms`)), timeoutMs);
      const waiters = this.#settleWaiters.get(index) ?? [];
      waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
      this.#settleWaiters.set(index, waiters);
    });
    const request = settledNow();
    if (!request) throw new Error(`request ${index} is not settled`);
    return request;
  }

  async close(): Promise<void> {
    this.#closing = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    // Hanging and stalled replies hold their sockets open; close() alone would wait for them.
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
    if (req.method === 'GET' && path === '/v1/models') {
      sendJson(res, 200, { object: 'list', data: [{ id: 'scripted-model', object: 'model', created: CREATED, owned_by: 'test' }] });
      return;
    }
    const isChat = req.method === 'POST' && path === '/v1/chat/completions';
    const isEmbeddings = req.method === 'POST' && path === '/v1/embeddings';
    if (!isChat && !isEmbeddings) {
      sendError(res, { type: 'http-error', status: 404, message: `scripted server: no route ${req.method} ${path}` });
      return;
    }
    const body = await readJson(req);
    const record = this.#record(req, path, body);
    res.on('close', () => {
      // 'close' before the response finished means the peer went away first.
      if (!res.writableFinished && !this.#closing && !this.#closedByServer.has(res)) record.clientClosed = true;
      this.#notifySettled(record.index);
    });
    res.on('finish', () => {
      record.completed = true;
      this.#notifySettled(record.index);
    });

    if (isEmbeddings) {
      const step = this.#embeddingsScript.shift();
      const scripted = typeof step === 'function' ? step(record) : step;
      if (!scripted) this.#sendEmbeddings(res, record, body);
      else if (scripted.type === 'http-error') sendError(res, scripted);
      else if (scripted.type === 'embeddings') sendEmbeddingsData(res, record, scripted.data);
      return;
    }
    const step = this.#chatScript.shift() ?? this.#fallback;
    const reply = typeof step === 'function' ? step(record) : step;
    await this.#reply(res, record, reply);
  }

  #record(req: IncomingMessage, path: string, body: unknown): RecordedOpenAiRequest {
    const fields = isObject(body) ? body : {};
    const messages = Array.isArray(fields['messages'])
      ? fields['messages'].filter(isObject).map((message) => ({
          role: String(message['role']),
          content: typeof message['content'] === 'string' ? message['content'] : JSON.stringify(message['content']),
        }))
      : [];
    const rawInput = fields['input'];
    const input = (Array.isArray(rawInput) ? rawInput : rawInput === undefined ? [] : [rawInput]).map((item) =>
      typeof item === 'string' ? item : JSON.stringify(item),
    );
    const record: RecordedOpenAiRequest = {
      index: this.requests.length,
      path,
      model: typeof fields['model'] === 'string' ? fields['model'] : undefined,
      messages,
      input,
      stream: fields['stream'] === true,
      body,
      headers: { ...req.headers },
      clientClosed: false,
      completed: false,
    };
    this.requests.push(record);
    for (const wake of this.#arrivalWaiters.splice(0)) wake();
    return record;
  }

  async #reply(res: ServerResponse, record: RecordedOpenAiRequest, reply: ScriptedChatReply): Promise<void> {
    switch (reply.type) {
      case 'http-error':
        sendError(res, reply);
        return;
      case 'hang':
        return;
      case 'text': {
        if (!(await this.#delay(reply.firstByteDelayMs ?? 0, res))) return;
        if (!record.stream) {
          if (!(await this.#delay((reply.tokenDelayMs ?? 0) * reply.tokens.length, res))) return;
          sendJson(res, 200, completion(record, reply.tokens.join(''), reply.finishReason ?? 'stop'));
          return;
        }
        if (!(await this.#streamTokens(res, record, reply.tokens, reply.tokenDelayMs ?? 0))) return;
        writeEvent(res, chunk(record, {}, reply.finishReason ?? 'stop'));
        if (includeUsage(record.body))
          writeEvent(res, { ...chunk(record, {}, null), choices: [], usage: usage(record, reply.tokens.length) });
        res.end('data: [DONE]\n\n');
        return;
      }
      case 'stall':
        await this.#streamTokens(res, record, reply.tokens, reply.tokenDelayMs ?? 0);
        return;
      case 'drop':
        if (await this.#streamTokens(res, record, reply.tokens, reply.tokenDelayMs ?? 0)) {
          this.#closedByServer.add(res);
          res.destroy();
        }
        return;
      case 'stream-error':
        if (!(await this.#streamTokens(res, record, reply.tokens, 0))) return;
        writeEvent(res, {
          error: {
            message: reply.message ?? 'scripted mid-stream failure',
            type: reply.errorType ?? 'server_error',
            param: null,
            code: null,
          },
        });
        res.end();
        return;
    }
  }

  /** Writes the SSE headers, the role chunk and one chunk per token; false when the client left. */
  async #streamTokens(res: ServerResponse, record: RecordedOpenAiRequest, tokens: readonly string[], delayMs: number): Promise<boolean> {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    writeEvent(res, chunk(record, { role: 'assistant', content: '' }, null));
    for (const token of tokens) {
      if (!(await this.#delay(delayMs, res))) return false;
      writeEvent(res, chunk(record, { content: token }, null));
    }
    return !res.destroyed;
  }

  /** Waits `ms` (tracked, so that close() can cancel it); false when the client left meanwhile. */
  async #delay(ms: number, res: ServerResponse): Promise<boolean> {
    if (ms > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.#timers.delete(timer);
          res.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        this.#timers.add(timer);
        res.once('close', done);
      });
    }
    return !res.destroyed && !res.writableEnded;
  }

  #sendEmbeddings(res: ServerResponse, record: RecordedOpenAiRequest, body: unknown): void {
    const fields = isObject(body) ? body : {};
    const requested = fields['dimensions'];
    const dimensions = typeof requested === 'number' && requested > 0 ? requested : this.#dimensions;
    const data = record.input.map((text, index) => ({ index, embedding: deterministicEmbedding(text, dimensions) }));
    sendEmbeddingsData(res, record, data);
  }

  #notifySettled(index: number): void {
    const waiters = this.#settleWaiters.get(index);
    if (!waiters) return;
    this.#settleWaiters.delete(index);
    for (const wake of waiters) wake();
  }
}

/**
 * A unit vector from feature-hashing the lowercased words of `text` (Unicode
 * letters and digits, so Devanagari counts): equal texts give equal vectors and
 * texts sharing words point the same way. Deterministic across processes.
 */
export function deterministicEmbedding(text: string, dimensions: number): number[] {
  const vector = new Array<number>(dimensions).fill(0);
  for (const word of words(text)) {
    const digest = createHash('sha256').update(word).digest();
    const bucket = digest.readUInt32BE(0) % dimensions;
    const sign = (digest[4] ?? 0) & 1 ? 1 : -1;
    vector[bucket] = (vector[bucket] ?? 0) + sign;
  }
  const norm = Math.hypot(...vector);
  if (norm === 0) {
    vector[0] = 1;
    return vector;
  }
  return vector.map((value) => value / norm);
}

function words(text: string): string[] {
  return text.toLowerCase().match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
}

/** An embeddings response with these items, as floats or base64 float32 as the request asks. */
function sendEmbeddingsData(
  res: ServerResponse,
  record: RecordedOpenAiRequest,
  items: readonly { index: number; embedding: readonly number[] }[],
): void {
  const base64 = isObject(record.body) && record.body['encoding_format'] === 'base64';
  const data = items.map(({ index, embedding }) => ({
    object: 'embedding',
    index,
    embedding: base64 ? Buffer.from(Float32Array.from(embedding).buffer).toString('base64') : embedding,
  }));
  const tokens = record.input.reduce((sum, text) => sum + words(text).length, 0);
  sendJson(res, 200, {
    object: 'list',
    data,
    model: record.model ?? 'scripted-embeddings',
    usage: { prompt_tokens: tokens, total_tokens: tokens },
  });
}

function chunk(record: RecordedOpenAiRequest, delta: Record<string, unknown>, finishReason: string | null): Record<string, unknown> {
  return {
    id: `chatcmpl-scripted-${record.index}`,
    object: 'chat.completion.chunk',
    created: CREATED,
    model: record.model ?? 'scripted-model',
    system_fingerprint: null,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
}

function completion(record: RecordedOpenAiRequest, content: string, finishReason: string): Record<string, unknown> {
  return {
    id: `chatcmpl-scripted-${record.index}`,
    object: 'chat.completion',
    created: CREATED,
    model: record.model ?? 'scripted-model',
    system_fingerprint: null,
    choices: [{ index: 0, message: { role: 'assistant', content, refusal: null }, logprobs: null, finish_reason: finishReason }],
    usage: usage(record, content.length > 0 ? words(content).length : 0),
  };
}

function usage(record: RecordedOpenAiRequest, completionTokens: number): Record<string, number> {
  const promptTokens = record.messages.reduce((sum, message) => sum + words(message.content).length, 0);
  return { prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens };
}

function includeUsage(body: unknown): boolean {
  const streamOptions = isObject(body) ? body['stream_options'] : undefined;
  return isObject(streamOptions) && streamOptions['include_usage'] === true;
}

function writeEvent(res: ServerResponse, payload: unknown): void {
  res.write(`data: ${JSON.stringify(payload)}\n\n`);
}

function sendJson(res: ServerResponse, status: number, payload: unknown, headers: Readonly<Record<string, string>> = {}): void {
  res.writeHead(status, { ...headers, 'content-type': 'application/json' });
  res.end(JSON.stringify(payload));
}

function sendError(res: ServerResponse, reply: Extract<ScriptedChatReply, { type: 'http-error' }>): void {
  const defaultType = reply.status === 429 ? 'rate_limit_exceeded' : reply.status >= 500 ? 'server_error' : 'invalid_request_error';
  sendJson(
    res,
    reply.status,
    {
      error: {
        message: reply.message ?? `scripted HTTP ${reply.status}`,
        type: reply.errorType ?? defaultType,
        param: null,
        code: reply.code ?? null,
      },
    },
    reply.headers,
  );
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const parts: Buffer[] = [];
  for await (const part of req) parts.push(part as Buffer);
  const text = Buffer.concat(parts).toString('utf8');
  if (!text) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
