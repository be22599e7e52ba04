import type { AnswerStage, BotStatus, Source, UnsequencedFrame } from '@ragstream/protocol';
import type { AppendResult, FrameLog } from './frame-log.ts';

export interface TerminalExtras {
  grounded?: boolean | undefined;
  language?: string | undefined;
  error?: string | undefined;
}

export interface GenerationIdentity {
  chatId: string;
  generationId: string;
  attempt: number;
}

/**
 * Publishes one attempt of a generation. Deltas are coalesced in short windows
 * (the first is flushed at once); appends are chained, never awaited by the
 * token loop, so a Redis round trip never sits between two tokens.
 */
export class GenerationStream {
  private published = '';
  private pending = '';
  private timer: NodeJS.Timeout | undefined;
  private chain: Promise<void> = Promise.resolve();
  private sentFirstDelta = false;
  private lost: 'fenced' | 'done' | undefined;
  private failure: Error | undefined;

  constructor(
    private readonly log: FrameLog,
    private readonly id: GenerationIdentity,
    private readonly windowMs: number,
    /** Called once if this attempt has been superseded, so that the caller can stop generating. */
    private readonly onLost: (reason: 'fenced' | 'done') => void,
  ) {}

  /** The text handed to `push` so far: what clients have received once `drain` resolves. */
  get text(): string {
    return this.published + this.pending;
  }

  get lostReason(): 'fenced' | 'done' | undefined {
    return this.lost;
  }

  typing(replyTo: string): void {
    this.enqueue([{ mt: 'typing_indicator', ...this.id, replyTo }], false);
  }

  /** A pipeline stage began; sent after any text buffered so far. */
  status(stage: AnswerStage, language?: string): void {
    this.flush();
    this.enqueue([{ mt: 'chat_message_bot_status', ...this.id, stage, ...(language === undefined ? {} : { language }) }], false);
  }

  push(delta: string): void {
    if (delta.length === 0 || this.lost) return;
    this.pending += delta;
    if (!this.sentFirstDelta) {
      this.sentFirstDelta = true;
      this.flush();
    } else {
      this.timer ??= setTimeout(() => this.flush(), this.windowMs);
    }
  }

  /** Flushes buffered text and waits until every frame so far is in Redis. */
  async drain(): Promise<void> {
    this.flush();
    await this.chain;
    if (this.failure) throw this.failure;
  }

  /** Appends the terminal frame; resolves false if another attempt or a stop got there first. */
  async finish(status: BotStatus, messageId: string, sources: Source[], extra: TerminalExtras = {}): Promise<boolean> {
    await this.drain();
    if (this.lost) return false;
    const frame: UnsequencedFrame = {
      mt: 'chat_message_bot_complete',
      ...this.id,
      status,
      messageId,
      text: this.published,
      sources,
      ...(extra.grounded === undefined ? {} : { grounded: extra.grounded }),
      ...(extra.language === undefined ? {} : { language: extra.language }),
      ...(extra.error === undefined ? {} : { error: extra.error }),
    };
    const result = await this.log.append(this.id.chatId, this.id.generationId, this.id.attempt, [frame], true);
    this.record(result);
    return result.ok;
  }

  private flush(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    if (this.pending.length === 0) return;
    const delta = this.pending;
    this.pending = '';
    this.published += delta;
    this.enqueue([{ mt: 'chat_message_bot_partial', ...this.id, delta }], false);
  }

  private enqueue(frames: UnsequencedFrame[], terminal: boolean): void {
    this.chain = this.chain.then(async () => {
      if (this.lost || this.failure) return;
      try {
        this.record(await this.log.append(this.id.chatId, this.id.generationId, this.id.attempt, frames, terminal));
      } catch (err) {
        this.failure = err instanceof Error ? err : new Error(String(err));
      }
    });
  }

  private record(result: AppendResult): void {
    if (result.ok || this.lost) return;
    this.lost = result.reason;
    this.onLost(result.reason);
  }
}
