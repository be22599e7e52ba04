import WebSocket from 'ws';
import { FrameCollector } from './frame-collector.ts';

export interface WsClose {
  code: number;
  reason: string;
}

/** A plain WebSocket client of `/chat/ws/:chatId`, as in the seed's examples. */
export class WsChatClient {
  readonly collector: FrameCollector;
  readonly closed: Promise<WsClose>;

  private constructor(
    private readonly ws: WebSocket,
    label: string,
  ) {
    this.collector = new FrameCollector(label);
    ws.on('message', (data) => this.collector.add(JSON.parse(data.toString())));
    this.closed = new Promise((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  }

  /** `options.protocols`: subprotocols to offer (a token as `['bearer', jwt]`); `options.headers`: e.g. Authorization. */
  static connect(
    baseUrl: string,
    chatId: string,
    query: Record<string, string | number> = {},
    options: { protocols?: string[]; headers?: Record<string, string> } = {},
  ): Promise<WsChatClient> {
    const url = new URL(`/chat/ws/${chatId}`, baseUrl.replace(/^http/, 'ws'));
    for (const [key, value] of Object.entries(query)) url.searchParams.set(key, String(value));
    const ws = new WebSocket(url, options.protocols ?? [], { headers: options.headers ?? {} });
    const client = new WsChatClient(ws, `ws ${url.pathname}`);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  get frames(): WsChatClient['collector']['frames'] {
    return this.collector.frames;
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' || Buffer.isBuffer(frame) ? frame : JSON.stringify(frame));
  }

  /** The subprotocol the server chose ('' for none). */
  get protocol(): string {
    return this.ws.protocol;
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    this.ws.close();
    await this.closed;
  }

  /** Drops the TCP connection without a close handshake, like a lost network. */
  terminate(): void {
    this.ws.terminate();
  }
}
