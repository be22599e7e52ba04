import type { GenerationFrame, MessageUploadConfirmFrame } from '@ragstream/protocol';
import { generationFrameSchema, serverFrameSchema } from '@ragstream/protocol';
import type { ChatConnection, ResumePoint, Transport } from './chat-connection.ts';
import { openConnection } from './chat-connection.ts';
import { GenerationView } from './generation-view.ts';

export interface Confirmation {
  clientMessageId: string;
  messageId: string;
  generationId: string;
  duplicate: boolean;
  at: number;
}

export interface ClientOptions {
  transport: Transport;
  chatId: string;
  baseUrl: string;
  /** When the connection is lost: where to reconnect (another node), or undefined to stay disconnected. */
  reconnectTo?: (lostUrl: string) => string | undefined;
  label?: string;
}

/**
 * One user's client of one chat, as a real one behaves: it reconnects (to another node
 * if told) after a lost connection and resumes the unfinished generation with its
 * generationId and lastSeq. Every generation frame is kept per generation, whichever
 * socket delivered it, so gaps and duplicates across reconnects are counted.
 */
export class ChaosClient {
  readonly views = new Map<string, GenerationView>();
  readonly confirmations = new Map<string, Confirmation>();
  readonly errors: unknown[] = [];
  readonly problems: string[] = [];
  readonly reconnections: { lostAt: number; reconnectedAt: number; url: string; resume: ResumePoint | undefined }[] = [];
  private connection: ChatConnection | undefined;
  private confirmWaiters = new Map<string, (confirmation: Confirmation) => void>();
  private closed = false;
  private reconnecting: Promise<void> | undefined;
  baseUrl: string;

  private constructor(readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl;
  }

  static async connect(options: ClientOptions): Promise<ChaosClient> {
    const client = new ChaosClient(options);
    client.connection = await client.open(options.baseUrl, undefined);
    return client;
  }

  get chatId(): string {
    return this.options.chatId;
  }

  get transport(): Transport {
    return this.options.transport;
  }

  get label(): string {
    return this.options.label ?? `${this.options.transport} ${this.options.chatId}`;
  }

  view(generationId: string): GenerationView {
    let view = this.views.get(generationId);
    if (!view) {
      view = new GenerationView(generationId);
      this.views.set(generationId, view);
    }
    return view;
  }

  /** Sends a message and resolves with its confirmation (rejects after timeoutMs). */
  send(text: string, clientMessageId: string, userId = 'chaos-user', timeoutMs = 15_000): Promise<Confirmation> {
    const known = this.confirmations.get(clientMessageId);
    const confirmed = known
      ? Promise.resolve(known)
      : new Promise<Confirmation>((resolve, reject) => {
          const timer = setTimeout(() => {
            this.confirmWaiters.delete(clientMessageId);
            reject(new Error(`${this.label}: no message_upload_confirm for ${clientMessageId} within ${timeoutMs} ms`));
          }, timeoutMs);
          this.confirmWaiters.set(clientMessageId, (confirmation) => {
            clearTimeout(timer);
            resolve(confirmation);
          });
        });
    this.connection?.send({ mt: 'message_upload', message: text, userId, timezone: 'UTC', selectedLanguage: 'en', clientMessageId });
    return confirmed;
  }

  /** The stop frame over this client's socket. */
  stop(): void {
    this.connection?.send({ mt: 'stop' });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reconnecting?.catch(() => undefined);
    await this.connection?.close();
  }

  private open(url: string, resume: ResumePoint | undefined): Promise<ChatConnection> {
    this.baseUrl = url;
    return openConnection(
      this.options.transport,
      url,
      this.options.chatId,
      {
        payload: (payload, at) => this.onPayload(payload, at),
        lost: (reason) => this.onLost(reason),
      },
      resume,
    );
  }

  private onPayload(payload: unknown, at: number): void {
    const parsed = serverFrameSchema.safeParse(payload);
    if (!parsed.success) {
      this.problems.push(`${this.label}: invalid frame ${JSON.stringify(payload).slice(0, 200)}`);
      return;
    }
    const frame = parsed.data;
    if (frame.mt === 'message_upload_confirm') {
      this.onConfirm(frame, at);
      return;
    }
    if (frame.mt === 'error') {
      this.errors.push(frame);
      return;
    }
    const generation = generationFrameSchema.safeParse(frame);
    if (generation.success) this.onGenerationFrame(generation.data, at);
  }

  private onConfirm(frame: MessageUploadConfirmFrame, at: number): void {
    const clientMessageId = frame.clientMessageId ?? '';
    const confirmation: Confirmation = {
      clientMessageId,
      messageId: frame.messageId,
      generationId: frame.generationId ?? '',
      duplicate: frame.duplicate === true,
      at,
    };
    if (!this.confirmations.has(clientMessageId)) this.confirmations.set(clientMessageId, confirmation);
    this.confirmWaiters.get(clientMessageId)?.(confirmation);
    this.confirmWaiters.delete(clientMessageId);
  }

  private onGenerationFrame(frame: GenerationFrame, at: number): void {
    this.view(frame.generationId).add(frame, at);
  }

  /** The generation to resume: the latest one seen without its terminal frame. */
  private resumePoint(): ResumePoint | undefined {
    const open = [...this.views.values()].filter((v) => !v.terminal);
    const latest = open.at(-1);
    return latest ? { generationId: latest.generationId, lastSeq: latest.lastSeq } : undefined;
  }

  private onLost(reason: string): void {
    if (this.closed) return;
    const lostAt = performance.now();
    const target = this.options.reconnectTo?.(this.baseUrl);
    if (target === undefined) {
      this.problems.push(`${this.label}: connection lost (${reason}) and no node to reconnect to`);
      return;
    }
    this.reconnecting = (async () => {
      const deadline = Date.now() + 30_000;
      let delay = 50;
      for (;;) {
        if (this.closed) return;
        const resume = this.resumePoint();
        try {
          const url = this.options.reconnectTo?.(this.baseUrl) ?? target;
          this.connection = await this.open(url, resume);
          this.reconnections.push({ lostAt, reconnectedAt: performance.now(), url, resume });
          return;
        } catch (err) {
          if (Date.now() > deadline) {
            this.problems.push(`${this.label}: could not reconnect within 30 s: ${err instanceof Error ? err.message : String(err)}`);
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, delay));
          delay = Math.min(delay * 2, 1_000);
        }
      }
    })();
  }
}
