import type { Socket } from 'socket.io';

/** The engine.io connection under a Socket.IO socket. */
type EngineConnection = Socket['conn'];

/** The WebSocket a connection's transport writes to (none for long-polling), as engine.io keeps it. */
interface TransportSocket {
  bufferedAmount?: unknown;
  terminate?: () => void;
}

interface Tracked {
  /** Bytes of the packets created since the last flush: engine.io's writeBuffer. */
  unflushed: number;
}

const tracked = new WeakMap<EngineConnection, Tracked>();

/**
 * Bytes an engine.io connection holds for its client: the packets waiting in its write buffer
 * (engine.io keeps them there while the transport still writes earlier ones, i.e. while the
 * WebSocket has not handed them to the kernel) plus what the transport's WebSocket holds.
 * The write buffer is counted as packets are created and emptied on each flush, not summed
 * on every call. Every namespace of the connection shares the count.
 */
export function engineBufferedBytes(conn: EngineConnection): () => number {
  let state = tracked.get(conn);
  if (state === undefined) {
    const created: Tracked = { unflushed: 0 };
    conn.on('packetCreate', (packet: { data?: unknown }) => {
      created.unflushed += packetBytes(packet.data);
    });
    conn.on('flush', () => {
      created.unflushed = 0;
    });
    tracked.set(conn, created);
    state = created;
  }
  const counted = state;
  return () => {
    const buffered = transportSocket(conn)?.bufferedAmount;
    return counted.unflushed + (typeof buffered === 'number' ? buffered : 0);
  };
}

/**
 * Drops the connection at once, whatever it still holds: the transport's WebSocket is
 * terminated (a close frame would wait behind the backlog), long-polling is closed discarding
 * its buffer.
 */
export function dropEngineConnection(conn: EngineConnection): void {
  if (conn.readyState === 'closed') return;
  const socket = transportSocket(conn);
  if (typeof socket?.terminate === 'function') socket.terminate();
  else conn.close(true);
}

function transportSocket(conn: EngineConnection): TransportSocket | undefined {
  return (conn.transport as unknown as { socket?: TransportSocket }).socket;
}

function packetBytes(data: unknown): number {
  if (typeof data === 'string') return Buffer.byteLength(data);
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return data.byteLength;
  return 0;
}
