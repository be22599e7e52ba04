import type { UserFrame } from '@ragstream/protocol';
import { io, type Socket } from 'socket.io-client';
import { authToken } from './identity.ts';

/** Keyed by the protocol's type (a value import would bundle zod): a new user frame fails to compile until listed. */
const USER_FRAME_TYPES: Record<UserFrame['mt'], true> = {
  chat_created: true,
  chat_renamed: true,
  chat_deleted: true,
  answer_started: true,
};

export interface UserSocketHandlers {
  frame(frame: UserFrame): void;
  /** Each (re)connect: user frames sent while disconnected are lost, so the page reloads what they describe. */
  connected(): void;
}

/**
 * The user-level Socket.IO connection (namespace `/chat`, handshake `{ userId }`, no chat):
 * it hears the chat list change and answers start, from every tab of the user on every node.
 */
export class UserSocket {
  private readonly socket: Socket;

  constructor(userId: string, handlers: UserSocketHandlers) {
    this.socket = io('/chat', {
      transports: ['websocket'],
      forceNew: true,
      reconnectionDelay: 300,
      reconnectionDelayMax: 3000,
      // A function, so that a reconnect sends the token the tab holds then.
      auth: (cb) => {
        const token = authToken();
        cb(token ? { userId, token } : { userId });
      },
    });
    this.socket.on('connect', () => handlers.connected());
    this.socket.on('disconnect', (reason) => {
      // A node that shuts down disconnects its clients; Socket.IO leaves reconnecting to us then.
      if (reason === 'io server disconnect') setTimeout(() => this.reconnect(), 300);
    });
    this.socket.on('connect_error', (err: Error & { data?: { code?: string } }) => {
      // A token that is refused stays refused: the chat socket tells the user to open the page with a fresh one.
      if (err.data?.code === 'unauthorized' || err.data?.code === 'token_expired') return;
      // Errors from the handshake middleware are not retried by Socket.IO itself.
      if (!this.socket.active) setTimeout(() => this.reconnect(), 1000);
    });
    this.socket.onAny((event: string, payload: unknown) => {
      if (Object.hasOwn(USER_FRAME_TYPES, event) && typeof payload === 'object' && payload !== null)
        handlers.frame({ ...payload, mt: event } as UserFrame);
    });
  }

  private reconnect(): void {
    if (!this.socket.connected) this.socket.connect();
  }
}
