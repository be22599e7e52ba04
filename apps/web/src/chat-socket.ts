import type { ServerFrame } from '@ragstream/protocol';
import { io, type Socket } from 'socket.io-client';
import { authToken } from './identity.ts';

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'failed';

export interface ResumePoint {
  generationId: string;
  lastSeq: number;
}

export interface ChatSocketHandlers {
  frame(frame: ServerFrame): void;
  state(state: ConnectionState, detail?: string): void;
}

/**
 * One chat's Socket.IO connection (namespace `/chat`). Every (re)connect sends the resume
 * point of the answer on screen, so the server replays exactly what was missed.
 */
export class ChatSocket {
  private readonly socket: Socket;
  private closed = false;

  constructor(
    readonly chatId: string,
    resumePoint: () => ResumePoint | undefined,
    handlers: ChatSocketHandlers,
  ) {
    this.socket = io('/chat', {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 300,
      reconnectionDelayMax: 3000,
      // A function, so that each reconnect reads the resume point (and the token) anew.
      auth: (cb) => {
        const resume = resumePoint();
        const token = authToken();
        cb({
          chatId,
          ...(token ? { token } : {}),
          ...(resume ? { generationId: resume.generationId, lastSeq: resume.lastSeq } : {}),
        });
      },
    });
    handlers.state('connecting');
    this.socket.on('connect', () => handlers.state('connected'));
    this.socket.on('disconnect', (reason) => {
      if (this.closed) return;
      handlers.state('reconnecting', reason);
      // A node that shuts down disconnects its clients; Socket.IO leaves reconnecting to us then.
      if (reason === 'io server disconnect') setTimeout(() => this.reconnect(), 300);
    });
    this.socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      if (this.closed) return;
      if (err.data?.code === 'chat_not_found') {
        handlers.state('failed', 'This chat no longer exists.');
        return;
      }
      if (err.data?.code === 'unauthorized' || err.data?.code === 'token_expired') {
        handlers.state('failed', 'Sign-in needed: open the page with a fresh #token=');
        return;
      }
      handlers.state('reconnecting', err.message);
      // Errors from the handshake middleware are not retried by Socket.IO itself.
      if (!this.socket.active) setTimeout(() => this.reconnect(), 1000);
    });
    this.socket.onAny((event: string, payload: unknown) => {
      if (typeof payload === 'object' && payload !== null) handlers.frame({ ...payload, mt: event } as ServerFrame);
    });
  }

  upload(payload: { message: string; userId: string; clientMessageId: string; selectedLanguage: string; timezone: string }): void {
    this.socket.emit('message_upload', payload);
  }

  stop(): void {
    this.socket.emit('stop');
  }

  close(): void {
    this.closed = true;
    this.socket.close();
  }

  private reconnect(): void {
    if (!this.closed && !this.socket.connected) this.socket.connect();
  }
}
