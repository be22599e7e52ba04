import type { ClientFrame, ServerFrame } from '@ragstream/protocol';
import { serverFrameSchema } from '@ragstream/protocol';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

export const TRANSPORTS = ['ws', 'socketio'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface SocketEvents {
  /** A frame that passed the protocol schema, with its arrival time (performance.now()). */
  frame(frame: ServerFrame, at: number): void;
  /** A frame that did not: a protocol violation. */
  invalid(raw: unknown, reason: string): void;
  /** The connection ended without close() being called. */
  lost(reason: string): void;
}

/**
 * One client connection to one chat over the raw WebSocket or Socket.IO, reduced to
 * what a load generator needs: send frames, get validated frames with arrival times.
 * Unlike the test clients it never throws from a socket callback.
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
): Promise<ChatSocket> {
  return transport === 'ws' ? openWs(baseUrl, chatId, events, timeoutMs) : openSocketIo(baseUrl, chatId, events, timeoutMs);
}

function deliver(events: SocketEvents, payload: unknown, at: number): void {
  const parsed = serverFrameSchema.safeParse(payload);
  if (parsed.success) events.frame(parsed.data, at);
  else events.invalid(payload, parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; '));
}

function openWs(baseUrl: string, chatId: string, events: SocketEvents, timeoutMs: number): Promise<ChatSocket> {
  const url = new URL(`/chat/ws/${encodeURIComponent(chatId)}`, baseUrl.replace(/^http/, 'ws'));
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

function openSocketIo(baseUrl: string, chatId: string, events: SocketEvents, timeoutMs: number): Promise<ChatSocket> {
  const sio = io(`${baseUrl}/chat`, {
    transports: ['websocket'],
    auth: { chatId },
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
