import { EventSourceParserStream } from 'eventsource-parser/stream';
import { FrameCollector } from './frame-collector.ts';

/** A Server-Sent Events reader of `GET /chat/:chatId/events` that keeps each event's id. */
export class SseChatClient {
  readonly collector = new FrameCollector('sse');
  readonly ids: string[] = [];
  private readonly controller = new AbortController();
  private done: Promise<void> = Promise.resolve();

  /** `auth.token` goes in `?token=` (as EventSource must send it), `auth.bearer` in `Authorization: Bearer`. */
  static async connect(
    baseUrl: string,
    chatId: string,
    lastEventId?: string,
    auth: { token?: string; bearer?: string } = {},
  ): Promise<SseChatClient> {
    const client = new SseChatClient();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    if (auth.bearer !== undefined) headers.authorization = `Bearer ${auth.bearer}`;
    const query = auth.token === undefined ? '' : `?token=${encodeURIComponent(auth.token)}`;
    const response = await fetch(`${baseUrl}/chat/${chatId}/events${query}`, { headers, signal: client.controller.signal });
    if (!response.ok || !response.body) throw new Error(`SSE ${response.status}: ${await response.text()}`);
    client.done = client.read(response.body);
    // close() reports a failed read; until then, keep it from counting as unhandled.
    client.done.catch(() => undefined);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const events = body.pipeThrough(new TextDecoderStream()).pipeThrough(new EventSourceParserStream({ onError: 'terminate' }));
    try {
      for await (const event of events) {
        if (event.id !== undefined) this.ids.push(event.id);
        this.collector.add(JSON.parse(event.data));
      }
    } catch (error) {
      if (!this.controller.signal.aborted) throw error;
    }
  }

  /** Settles when the server ends the stream (or close() stops reading). */
  get ended(): Promise<void> {
    return this.done;
  }

  get lastEventId(): string | undefined {
    return this.ids.at(-1);
  }

  /** Stops reading; rejects if reading had failed (a broken stream or a frame that is not JSON). */
  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}
