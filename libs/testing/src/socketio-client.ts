import { isUserFrameType } from '@ragstream/protocol';
import type { Socket } from 'socket.io-client';
import { io } from 'socket.io-client';
import { FrameCollector } from './frame-collector.ts';
import { UserFrameCollector } from './user-frame-collector.ts';

/** A Socket.IO client of namespace `/chat` (WebSocket transport only, no sticky sessions). */
export class SioChatClient {
  readonly collector = new FrameCollector('socket.io');
  /** Event names, index for index with `collector.frames`, from the handshake on. */
  readonly events: string[] = [];
  /** The user-level frames, heard by a client that gave `userId` in the handshake. */
  readonly userFrames = new UserFrameCollector('socket.io user');

  private constructor(readonly socket: Socket) {
    socket.onAny((event: string, payload: unknown) => {
      if (isUserFrameType(event)) {
        this.userFrames.add(payload);
        return;
      }
      this.events.push(event);
      this.collector.add(payload);
    });
  }

  static connect(baseUrl: string, auth: Record<string, string | number>): Promise<SioChatClient> {
    const socket = io(`${baseUrl}/chat`, { transports: ['websocket'], auth, reconnection: false, forceNew: true });
    const client = new SioChatClient(socket);
    return new Promise((resolve, reject) => {
      socket.once('connect', () => resolve(client));
      socket.once('connect_error', (err: Error & { data?: unknown }) => {
        socket.close();
        reject(Object.assign(new Error(err.message), { data: err.data }));
      });
    });
  }

  emit(event: string, payload?: unknown): void {
    if (payload === undefined) this.socket.emit(event);
    else this.socket.emit(event, payload);
  }

  close(): void {
    this.socket.close();
  }
}

/**
 * Opens a Socket.IO connection to namespace `/chat` and closes its transport as soon as
 * the CONNECT packet is sent, while the server is still running its handshake middleware.
 */
export function sioHangUpDuringHandshake(baseUrl: string, auth: Record<string, string | number>): Promise<void> {
  const socket = io(`${baseUrl}/chat`, { transports: ['websocket'], auth, reconnection: false, forceNew: true });
  return new Promise((resolve) => {
    socket.io.once('open', () => {
      socket.io.engine.close();
      socket.close();
      resolve();
    });
  });
}
