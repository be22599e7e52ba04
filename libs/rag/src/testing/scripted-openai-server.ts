import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// A TEST DOUBLE: a real HTTP server on a free loopback port that answers the
// OpenAI REST API from a script, so that tests run the real `openai` SDK
// (retries, timeouts, abort, streaming) without a network or a model.

export interface ScriptedRequest {
  method: string;
  /** Path without the query, e.g. `/v1/embeddings`. */
  path: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when there was none). */
  body: unknown;
}

export type ScriptedReply =
  /** A JSON body, after `delayMs`. */
  | { status?: number; json: unknown; delayMs?: number; headers?: Record<string, string> }
  /** Server-sent events: each item becomes `data: <JSON>`, then `data: [DONE]`. */
  | { status?: number; events: unknown[]; delayMs?: number; eventDelayMs?: number; done?: boolean }
  /** Accepts the request and never answers (for timeouts and aborts). */
  | { hang: true };

export type ScriptedHandler = (request: ScriptedRequest) => ScriptedReply | Promise<ScriptedReply>;

export interface ScriptedOpenAIServer {
  /** Pass as the SDK's `baseURL` (ends in `/v1`). */
  readonly baseURL: string;
  /** Every request received, in order. */
  readonly requests: ScriptedRequest[];
  /** How many requests the client abandoned before the reply was complete. */
  readonly disconnects: number;
  /** Queues one-off replies for a path; they are used before the path's handler. */
  enqueue(path: string, ...replies: ScriptedReply[]): void;
  /** Sets the handler used when a path has no queued reply. */
  handle(path: string, handler: ScriptedHandler): void;
  close(): Promise<void>;
}

export async function startScriptedOpenAIServer(
  handlers: Record<string, ScriptedHandler> = {},
): Promise<ScriptedOpenAIServer> {
  const routes = new Map(Object.entries(handlers));
  const queues = new Map<string, ScriptedReply[]>();
  const requests: ScriptedRequest[] = [];
  const open = new Set<ServerResponse>();
  let disconnects = 0;

  const server = createServer((req, res) => {
    open.add(res);
    res.on('close', () => {
      open.delete(res);
      if (!res.writableFinished) disconnects += 1;
    });
    void (async () => {
      const request: ScriptedRequest = {
        method: req.method ?? 'GET',
        path: new URL(req.url ?? '/', 'http://localhost').pathname,
        headers: req.headers,
        body: await readJson(req),
      };
      requests.push(request);
      const queued = queues.get(request.path)?.shift();
      const handler = routes.get(request.path);
      const reply: ScriptedReply = queued ??
        (handler ? await handler(request) : { status: 404, json: errorBody(`no script for ${request.path}`) });
      await send(res, reply);
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify(errorBody(String(error))));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseURL: `http://127.0.0.1:${port}/v1`,
    requests,
    get disconnects() {
      return disconnects;
    },
    enqueue(path, ...replies) {
      queues.set(path, [...(queues.get(path) ?? []), ...replies]);
    },
    handle(path, handler) {
      routes.set(path, handler);
    },
    async close() {
      for (const res of open) res.destroy();
      const closed = new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve())));
      // Idle keep-alive sockets would hold close() open for seconds.
      server.closeAllConnections();
      await closed;
    },
  };
}

/** The body of an OpenAI error response. */
export function errorBody(message: string, type = 'server_error'): unknown {
  return { error: { message, type, param: null, code: null } };
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? (JSON.parse(text) as unknown) : undefined;
}

async function send(res: ServerResponse, reply: ScriptedReply): Promise<void> {
  if ('hang' in reply) return;
  if (reply.delayMs) await delay(reply.delayMs);
  if (res.destroyed) return;
  if ('json' in reply) {
    res.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
    res.end(JSON.stringify(reply.json));
    return;
  }
  res.writeHead(reply.status ?? 200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  for (const event of reply.events) {
    if (res.destroyed) return;
    res.write(`data: ${JSON.stringify(event)}\n\n`);
    if (reply.eventDelayMs) await delay(reply.eventDelayMs);
  }
  if (reply.done !== false) res.write('data: [DONE]\n\n');
  res.end();
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
