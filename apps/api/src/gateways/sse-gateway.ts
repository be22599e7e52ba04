import type { ResumeParams, ServerFrame } from '@ragstream/protocol';
import { formatEventId, parseEventId } from '@ragstream/protocol';
import type { Request, Response, Router } from 'express';
import express from 'express';
import { ApiError } from '../api-error.ts';
import { requestPrincipal } from '../auth/authenticator.ts';
import type { ConnectionDeps } from '../chat-connection.ts';
import { ChatConnection, SLOW_CONSUMER_CLOSE_GRACE_MS } from '../chat-connection.ts';

const HEARTBEAT_MS = 15_000;

/**
 * SSE carries the chat's frames: confirmations and errors answer the REST requests. The
 * `error` events a stream carries are `slow_consumer` and `token_expired`, right before the
 * node ends it.
 */
type SseFrame = Exclude<ServerFrame, { mt: 'message_upload_confirm' }>;

/**
 * `GET /chat/:chatId/events`: the chat's generation frames as Server-Sent Events,
 * ids `<generationId>:<seq>`, resumed from `Last-Event-ID` (or `?lastEventId=`,
 * since EventSource cannot set headers on its first request after a page reload).
 * Messages and stop go over REST. With authentication on, the token comes in
 * `Authorization: Bearer` or `?token=` (EventSource cannot set headers), checked before this
 * router by `authenticateRequests`; the stream ends when it expires.
 */
export function sseRouter(deps: ConnectionDeps): Router {
  const router = express.Router();
  router.get('/chat/:chatId/events', async (req: Request, res: Response) => {
    const chatId = String(req.params.chatId);
    const header = req.get('last-event-id') ?? (typeof req.query.lastEventId === 'string' ? req.query.lastEventId : undefined);
    let resume: ResumeParams = {};
    if (header !== undefined && header !== '') {
      const parsed = parseEventId(header);
      if (!parsed) throw new ApiError('invalid_query', 'Last-Event-ID must be <generationId>:<seq>');
      resume = parsed;
    }

    let open = true;
    const write = (frame: SseFrame): void => {
      if (!open) return;
      // resume_unavailable and server_shutdown have no seq: without an id they leave the client's Last-Event-ID alone.
      const id = 'seq' in frame ? `id: ${formatEventId(frame.generationId, frame.seq)}\n` : '';
      res.write(`${id}data: ${JSON.stringify(frame)}\n\n`);
    };
    const pending: SseFrame[] = [];
    const connection = await ChatConnection.open(deps, chatId, resume, requestPrincipal(req), {
      kind: 'sse',
      send: (frame) => {
        if (
          frame.mt === 'message_upload_confirm' ||
          (frame.mt === 'error' && frame.code !== 'token_expired' && frame.code !== 'slow_consumer')
        )
          return;
        if (res.headersSent) write(frame);
        else pending.push(frame);
      },
      // What the response holds unsent: its own buffer and its socket's (res.write's backpressure).
      bufferedBytes: () => res.writableLength,
      disconnect: (reason) => {
        open = false;
        res.end();
        // The end waits behind the backlog; a client that does not read it by then is dropped.
        if (reason === 'slow_consumer') {
          setTimeout(() => {
            if (!res.writableFinished) res.destroy();
          }, SLOW_CONSUMER_CLOSE_GRACE_MS).unref();
        }
      },
    });
    if (req.destroyed || res.writableEnded) {
      await connection.close();
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache, no-transform',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write('retry: 1000\n\n');
    for (const frame of pending) write(frame);
    const heartbeat = setInterval(() => {
      if (open) res.write(': ping\n\n');
    }, HEARTBEAT_MS);
    // The response closes when the client goes away and when the server ends it.
    res.on('close', () => {
      open = false;
      clearInterval(heartbeat);
      void connection.close();
    });
  });
  return router;
}
