import type { Request, Response, Router } from 'express';
import express from 'express';
import type { GenerationFrame, ResumeParams } from '@ragstream/protocol';
import { formatEventId, parseEventId } from '@ragstream/protocol';
import type { Logger } from '@ragstream/runtime';
import { ApiError } from '../api-error.ts';
import { ChatConnection } from '../chat-connection.ts';
import type { ConnectionDeps } from '../chat-connection.ts';

const HEARTBEAT_MS = 15_000;

/**
 * `GET /chat/:chatId/events`: the chat's generation frames as Server-Sent Events,
 * ids `<generationId>:<seq>`, resumed from `Last-Event-ID` (or `?lastEventId=`,
 * since EventSource cannot set headers on its first request after a page reload).
 * Messages and stop go over REST.
 */
export function sseRouter(deps: ConnectionDeps, logger: Logger): Router {
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
    const write = (frame: GenerationFrame): void => {
      if (open) res.write(`id: ${formatEventId(frame.generationId, frame.seq)}\ndata: ${JSON.stringify(frame)}\n\n`);
    };
    const pending: GenerationFrame[] = [];
    const connection = await ChatConnection.open(deps, chatId, resume, (frame) => {
      if (frame.mt === 'message_upload_confirm' || frame.mt === 'error') return;
      if (res.headersSent) write(frame);
      else pending.push(frame);
    });
    if (req.destroyed) {
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
    const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
    req.on('close', () => {
      open = false;
      clearInterval(heartbeat);
      void connection.close().catch((err: unknown) => logger.warn('sse close failed', { chatId, err }));
    });
  });
  return router;
}
