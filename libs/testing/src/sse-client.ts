import { FrameCollector } from './frame-collector.ts';

/** A Server-Sent Events reader of `GET /chat/:chatId/events` that keeps each event's id. */
export class SseChatClient {
  readonly collector = new FrameCollector('sse');
  readonly ids: string[] = [];
  private readonly controller = new AbortController();
  private done: Promise<void> = Promise.resolve();

  static async connect(baseUrl: string, chatId: string, lastEventId?: string): Promise<SseChatClient> {
    const client = new SseChatClient();
    const headers: Record<string, string> = { accept: 'text/event-stream' };
    if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
    const response = await fetch(`${baseUrl}/chat/${chatId}/events`, { headers, signal: client.controller.signal });
    if (!response.ok || !response.body) throw new Error(`SSE ${response.status}: ${await response.text()}`);
    client.done = client.read(response.body);
    return client;
  }

  private async read(body: ReadableStream<Uint8Array>): Promise<void> {
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for await (const chunk of body) {
        buffer += decoder.decode(chunk, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          this.event(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
        }
      }
    } catch {
      // Aborted by close().
    }
  }

  private event(block: string): void {
    let id: string | undefined;
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('id: ')) id = line.slice(4);
      else if (line.startsWith('data: ')) data.push(line.slice(6));
    }
    if (data.length === 0) return;
    if (id !== undefined) this.ids.push(id);
    this.collector.add(JSON.parse(data.join('\n')));
  }

  get lastEventId(): string | undefined {
    return this.ids.at(-1);
  }

  async close(): Promise<void> {
    this.controller.abort();
    await this.done;
  }
}
