import type { ClientFrame } from '@ragstream/protocol';
import { io } from 'socket.io-client';
import WebSocket from 'ws';

export const TRANSPORTS = ['ws', 'socketio'] as const;
export type Transport = (typeof TRANSPORTS)[number];

export interface ResumePoint {
  generationId: string;
  lastSeq: number;
}

export interface ConnectionEvents {
  /** Every inbound payload, unparsed, with its arrival time (performance.now()). */
  payload(payload: unknown, at: number): void;
  /** The connection ended without close() being called (server died, network cut). */
  lost(reason: string): void;
}

/** One socket to one API node for one chat, over the raw WebSocket or Socket.IO; never throws from a callback. */
export interface ChatConnection {
  readonly transport: Transport;
  readonly baseUrl: string;
  send(frame: ClientFrame): void;
  close(): Promise<void>;
}

export function openConnection(
  transport: Transport,
  baseUrl: string,
  chatId: string,
  events: ConnectionEvents,
  resume?: ResumePoint,
  timeoutMs = 10_000,
): Promise<ChatConnection> {
  return transport === 'ws' ? openWs(baseUrl, chatId, events, resume, timeoutMs) : openSocketIo(baseUrl, chatId, events, resume, timeoutMs);
}

function openWs(
  baseUrl: string,
  chatId: string,
  events: ConnectionEvents,
  resume: ResumePoint | undefined,
  timeoutMs: number,
): Promise<ChatConnection> {
  const url = new URL(`/chat/ws/${encodeURIComponent(chatId)}`, baseUrl.replace(/^http/, 'ws'));
  if (resume) {
    url.searchParams.set('generationId', resume.generationId);
    url.searchParams.set('lastSeq', String(resume.lastSeq));
  }
  const ws = new WebSocket(url);
  let closing = false;
  let opened = false;
  ws.on('message', (data) => {
    const at = performance.now();
    let payload: unknown;
    try {
      payload = JSON.parse(data.toString());
    } catch {
      payload = { invalid: data.toString() };
    }
    events.payload(payload, at);
  });
  const closed = new Promise<void>((resolve) => {
    ws.once('close', (code, reason) => {
      if (!closing && opened) events.lost(`websocket closed (${code} ${reason.toString()})`);
      resolve();
    });
  });
  ws.on('error', () => undefined);
  const connection: ChatConnection = {
    transport: 'ws',
    baseUrl,
    send: (frame) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    },
    close: async () => {
      closing = true;
      if (ws.readyState === WebSocket.CLOSED) return;
      ws.terminate();
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
      opened = true;
      resolve(connection);
    });
    ws.once('error', (err) => {
      clearTimeout(timer);
      closing = true;
      reject(new Error(`websocket ${url.href}: ${err.message}`));
    });
  });
}

function openSocketIo(
  baseUrl: string,
  chatId: string,
  events: ConnectionEvents,
  resume: ResumePoint | undefined,
  timeoutMs: number,
): Promise<ChatConnection> {
  const auth: Record<string, string | number> = { chatId };
  if (resume) {
    auth['generationId'] = resume.generationId;
    auth['lastSeq'] = resume.lastSeq;
  }
  const sio = io(`${baseUrl}/chat`, { transports: ['websocket'], auth, reconnection: false, forceNew: true, timeout: timeoutMs });
  let closing = false;
  sio.onAny((_event: string, payload: unknown) => events.payload(payload, performance.now()));
  sio.on('disconnect', (reason) => {
    if (!closing) events.lost(`socket.io disconnected (${reason})`);
  });
  const connection: ChatConnection = {
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
    sio.once('connect', () => resolve(connection));
    sio.once('connect_error', (err: Error & { data?: unknown }) => {
      closing = true;
      sio.close();
      reject(new Error(`socket.io ${baseUrl}: ${err.message}${err.data === undefined ? '' : ` ${JSON.stringify(err.data)}`}`));
    });
  });
}
