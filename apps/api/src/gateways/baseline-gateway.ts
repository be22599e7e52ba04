import type { Server as HttpServer, IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { SyntheticResponder } from '@ragstream/rag';
import type { Logger } from '@ragstream/runtime';
import type { WebSocket } from 'ws';
import { WebSocketServer } from 'ws';
import { z } from 'zod';

export const BASELINE_PATH = '/loadtest/baseline';

const querySchema = z.object({
  tokens: z.coerce.number().int().min(1).max(100_000),
  tps: z.coerce.number().min(0).max(100_000),
});

const REQUEST = { chatId: 'baseline', organisationId: 'baseline', userId: 'baseline', userMessageId: 'baseline', text: 'baseline' };

/**
 * The load test's in-process baseline (LOADTEST_BASELINE): a WebSocket on which every
 * message is answered by the synthetic responder run in this process, each delta sent as it
 * comes, with no queue, worker or Redis between. `npm run loadtest` times its first delta beside
 * the real path's, so that the report states the path's overhead as a difference and a ratio.
 * Query: `tokens`, `tps` (the workers' synthetic answer). Frames: `{mt:'chat_message_bot_partial',
 * delta}`, then `{mt:'chat_message_bot_complete', text}`; not the chat protocol, and never stored.
 */
export function attachBaseline(httpServer: HttpServer, logger: Logger): WebSocketServer {
  const wss = new WebSocketServer({ noServer: true, maxPayload: 64 * 1024 });
  httpServer.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== BASELINE_PATH) return;
    const query = querySchema.safeParse(Object.fromEntries(url.searchParams));
    if (!query.success) {
      socket.end(`HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n${query.error.message}`);
      return;
    }
    const responder = new SyntheticResponder(query.data.tokens, query.data.tps);
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, responder, logger));
  });
  logger.info('load-test baseline on', { path: BASELINE_PATH });
  return wss;
}

function serve(ws: WebSocket, responder: SyntheticResponder, logger: Logger): void {
  const closed = new AbortController();
  ws.on('close', () => closed.abort());
  ws.on('error', (err) => logger.debug('baseline socket error', { err }));
  ws.on('message', () => {
    void answer(ws, responder, closed.signal, logger);
  });
}

async function answer(ws: WebSocket, responder: SyntheticResponder, signal: AbortSignal, logger: Logger): Promise<void> {
  let text = '';
  try {
    for await (const event of responder.respond(REQUEST, signal)) {
      if (event.type !== 'delta') continue;
      text += event.text;
      ws.send(JSON.stringify({ mt: 'chat_message_bot_partial', delta: event.text }));
    }
    ws.send(JSON.stringify({ mt: 'chat_message_bot_complete', text }));
  } catch (err) {
    // A closed socket aborts its answers; anything else is a fault of the baseline itself.
    if (!signal.aborted) logger.warn('baseline answer failed', { err });
  }
}
