import type { GenerationFrame, ServerFrame } from '@ragstream/protocol';

export type TransportKind = 'socketio' | 'websocket' | 'sse';
export const TRANSPORT_KINDS: readonly TransportKind[] = ['socketio', 'websocket', 'sse'];

/** What the node records for each frame sent, whichever connection sent it. */
export interface SentFrameSink {
  frameSent(sent: SentFrame): void;
  connectionClosed(transport: TransportKind): void;
}

export interface SentFrame {
  transport: TransportKind;
  frame: ServerFrame;
  /** performance.now() when it was sent. */
  at: number;
  /** Sent while the connection opened: replayed from the log, not live. */
  replayed: boolean;
  /** Seconds since the previous live frame of the same generation on this connection. */
  gapSeconds: number | undefined;
}

/** One connection's share of the metrics: whether it still replays, and when it sent its last frame. */
export class ConnectionMeter {
  private replaying = true;
  private closed = false;
  private last: { generationId: string; at: number } | undefined;

  constructor(
    private readonly sink: SentFrameSink,
    readonly transport: TransportKind,
  ) {}

  /** The open (and its replay) is over; frames from now on are live. */
  live(): void {
    this.replaying = false;
  }

  sent(frame: ServerFrame): void {
    const at = performance.now();
    let gapSeconds: number | undefined;
    if (isGenerationFrame(frame)) {
      const previous = this.last;
      if (!this.replaying && previous?.generationId === frame.generationId) gapSeconds = (at - previous.at) / 1000;
      this.last = frame.mt === 'chat_message_bot_complete' ? undefined : { generationId: frame.generationId, at };
    }
    this.sink.frameSent({ transport: this.transport, frame, at, replayed: this.replaying, gapSeconds });
  }

  /** Idempotent: a failed open and the release after it both end up here. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.sink.connectionClosed(this.transport);
  }
}

function isGenerationFrame(frame: ServerFrame): frame is GenerationFrame {
  return (
    frame.mt === 'typing_indicator' ||
    frame.mt === 'chat_message_bot_status' ||
    frame.mt === 'chat_message_bot_partial' ||
    frame.mt === 'chat_message_bot_complete'
  );
}
