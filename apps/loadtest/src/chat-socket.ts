import type { ClientFrame, ServerFrame } from '@ragstream/protocol';
import { serverFrameSchema } from '@ragstream/protocol';
import { EventSourceParserStream } from 'eventsource-parser/stream';
import { io } from 'socket.io-client';
import WebSocket from 'ws';
import { errorText } from './problems.ts';

export const TRANSPORTS = ['ws', 'socketio', 'sse'] as const;
export type Transport = (typeof TRANSPORTS)[number];

/** Where a reopened connection resumes: the generation it follows and the last seq it received of it. */
export interface ResumeFrom {
  generationId: string;
  lastSeq: number;
}

export interface SocketEvents {
  /** A frame that passed the protocol schema, with its arrival time (performance.now()). */
  frame(frame: ServerFrame, at: number): void;
  /** A frame that did not: a protocol violation. */
  invalid(raw: unknown, reason: string): void;
  /** The connection ended without close() being called. */
  lost(reason: string): void;
}

/**
 * One client connection to one chat over the raw WebSocket, Socket.IO or SSE (frames on the
 * event stream, messages and stops over REST), reduced to what a load generator needs: send
 * frames, get validated frames with arrival times. Unlike the test clients it never throws
 * from a socket callback.
 */
export interface ChatSocket {
  readonly transport: Transport;
  readonly baseUrl: string;
  send(frame: ClientFrame): void;
  close(): Promise<void>;
}

export function openChatSocket(
  transport: Transport,
  baseUrl: string,
  chatId: string,
  events: SocketEvents,
  timeoutMs = 10_000,
  resume?: ResumeFrom,
): Promise<ChatSocket> {
  if (transport === 'ws') return openWs(baseUrl, chatId, events, timeoutMs, resume);
  if (transport === 'socketio') return openSocketIo(baseUrl, chatId, events, timeoutMs, resume);
  return openSse(baseUrl, chatId, events, timeoutMs, resume);
}

function deliver(events: SocketEvents, payload: unknown, at: number): void {
  const parsed = serverFrameSchema.safeParse(payload);
  if (parsed.success) events.frame(parsed.data, at);
  else events.invalid(payload, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
}

function openWs(baseUrl: string, chatId: string, events: SocketEvents, timeoutMs: number, resume?: ResumeFrom): Promise<ChatSocket> {
  const url = new URL(`/chat/ws/${encodeURIComponent(chatId)}`, baseUrl.replace(/^http/, 'ws'));
  if (resume) {
    url.searchParams.set('generationId', resume.generationId);
    url.searchParams.set('lastSeq', String(resume.lastSeq));
  }
  const ws = new WebSocket(url);
  let closing = false;
  ws.on('message', (data) => {
    const at = performance.now();
    let payload: unknown;
    try {
      payload = JSON.parse(data.toString());
    } catch {
      events.invalid(data.toString(), 'not JSON');
      return;
    }
    deliver(events, payload, at);
  });
  const closed = new Promise<void>((resolve) => {
    ws.once('close', (code, reason) => {
      if (!closing) events.lost(`websocket closed (${code} ${reason.toString()})`);
      resolve();
    });
  });
  ws.on('error', () => undefined); // 'close' follows and reports it.
  const socket: ChatSocket = {
    transport: 'ws',
    baseUrl,
    send: (frame) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    },
    close: async () => {
      closing = true;
      if (ws.readyState === WebSocket.CLOSED) return;
      if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
      else ws.close();
      await closed;
    },
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      closing = true;
      ws.terminate();
      reject(new Error(`websocket ${url.href}: not open within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.once('open', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      closing = true;
      reject(new Error(`websocket ${url.href}: ${err.message}`));
    });
  });
}

function openSocketIo(baseUrl: string, chatId: string, events: SocketEvents, timeoutMs: number, resume?: ResumeFrom): Promise<ChatSocket> {
  const sio = io(`${baseUrl}/chat`, {
    transports: ['websocket'],
    auth: { chatId, ...resume },
    reconnection: false,
    forceNew: true,
    timeout: timeoutMs,
  });
  let closing = false;
  sio.onAny((_event: string, payload: unknown) => deliver(events, payload, performance.now()));
  sio.on('disconnect', (reason) => {
    if (!closing) events.lost(`socket.io disconnected (${reason})`);
  });
  const socket: ChatSocket = {
    transport: 'socketio',
    baseUrl,
    send: (frame) => {
      const { mt, ...payload } = frame;
      sio.emit(mt, payload);
    },
    close: async () => {
      closing = true;
      sio.close();
      await Promise.resolve();
    },
  };
  return new Promise((resolve, reject) => {
    sio.once('connect', () => resolve(socket));
    sio.once('connect_error', (err: Error & { data?: unknown }) => {
      closing = true;
      sio.close();
      reject(new Error(`socket.io ${baseUrl}: ${err.message}${err.data === undefined ? '' : ` ${JSON.stringify(err.data)}`}`));
    });
  });
}

/**
 * SSE: `GET /chat/:chatId/events` (resumed with `Last-Event-ID: <generationId>:<seq>`) carries
 * the chat's frames; a message is `POST /chat/:chatId/messages` with `generate`, whose answer
 * becomes the `message_upload_confirm` (or `error`) frame the other transports would send, and
 * a stop is `POST /chat/:chatId/stop`.
 */
async function openSse(baseUrl: string, chatId: string, events: SocketEvents, timeoutMs: number, resume?: ResumeFrom): Promise<ChatSocket> {
  const chatUrl = `${baseUrl}/chat/${encodeURIComponent(chatId)}`;
  const controller = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (resume) headers['last-event-id'] = `${resume.generationId}:${resume.lastSeq}`;
  const timer = setTimeout(() => controller.abort(new Error(`not open within ${timeoutMs} ms`)), timeoutMs);
  let response: Response;
  try {
    response = await fetch(`${chatUrl}/events`, { headers, signal: controller.signal });
  } catch (err) {
    throw new Error(`SSE ${chatUrl}/events: ${errorText(controller.signal.reason ?? err)}`);
  } finally {
    clearTimeout(timer);
  }
  const body = response.body;
  if (!response.ok || !body) {
    controller.abort();
    throw new Error(`SSE ${chatUrl}/events: ${response.status} ${await response.text().catch(() => '')}`);
  }
  let closing = false;
  const reading = (async () => {
    const stream = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream({ onError: 'terminate' }));
    try {
      for await (const event of stream) {
        const at = performance.now();
        let payload: unknown;
        try {
          payload = JSON.parse(event.data);
        } catch {
          events.invalid(event.data, 'not JSON');
          continue;
        }
        deliver(events, payload, at);
      }
      if (!closing) events.lost('event stream ended');
    } catch (err) {
      if (!closing) events.lost(`event stream failed (${errorText(err)})`);
    }
  })();
  const post = async (path: string, body: unknown): Promise<{ status: number; body: Record<string, unknown> }> => {
    const answer = await fetch(`${chatUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    return { status: answer.status, body: (await answer.json().catch(() => ({}))) as Record<string, unknown> };
  };
  // A failed request reads as the error frame a socket would have sent for it.
  const failed = (clientMessageId: string | undefined, code: unknown, message: unknown): void =>
    deliver(
      events,
      {
        mt: 'error',
        code: typeof code === 'string' ? code : 'unavailable',
        message: typeof message === 'string' ? message : 'request failed',
        ...(clientMessageId === undefined ? {} : { clientMessageId }),
      },
      performance.now(),
    );
  const upload = async (frame: Extract<ClientFrame, { mt: 'message_upload' }>): Promise<void> => {
    const { clientMessageId } = frame;
    try {
      const { status, body: message } = await post('/messages', {
        text: frame.message,
        userId: frame.userId,
        clientMessageId,
        generate: true,
        timezone: frame.timezone,
        selectedLanguage: frame.selectedLanguage,
      });
      if (status !== 200 && status !== 201) return failed(clientMessageId, message.code, message.message ?? `HTTP ${status}`);
      const confirm = { mt: 'message_upload_confirm', chatId, messageId: message.id, generationId: message.generationId, clientMessageId };
      deliver(events, status === 200 ? { ...confirm, duplicate: true } : confirm, performance.now());
    } catch (err) {
      failed(clientMessageId, 'unavailable', `POST ${chatUrl}/messages: ${errorText(err)}`);
    }
  };
  const stop = async (): Promise<void> => {
    try {
      const { status, body: answer } = await post('/stop', {});
      if (status !== 200) failed(undefined, answer.code, answer.message ?? `HTTP ${status}`);
    } catch (err) {
      failed(undefined, 'unavailable', `POST ${chatUrl}/stop: ${errorText(err)}`);
    }
  };
  return {
    transport: 'sse',
    baseUrl,
    send: (frame) => {
      void (frame.mt === 'message_upload' ? upload(frame) : stop());
    },
    close: async () => {
      closing = true;
      controller.abort();
      await reading;
    },
  };
}
