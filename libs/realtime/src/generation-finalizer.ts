import type { BotStatus, ChatMessage, Source } from '@ragstream/protocol';
import type { ChatStore } from '@ragstream/store';
import type { ChatFifo } from './chat-fifo.ts';
import type { FrameLog } from './frame-log.ts';
import type { GenerationQueue } from './generation-queue.ts';

export interface AnswerRecord {
  chatId: string;
  generationId: string;
  text: string;
  status: BotStatus;
  sources: Source[];
  grounded?: boolean | undefined;
  /** When the question was asked (the job's enqueue time): the answer sorts right after it. */
  askedAt: number;
}

/** Stores answers and hands a chat's turn to its next generation. */
export class GenerationFinalizer {
  constructor(
    private readonly store: ChatStore,
    private readonly log: FrameLog,
    private readonly fifo: ChatFifo,
    private readonly queue: GenerationQueue,
  ) {}

  /** Saves the bot message once per generation; an answer to a chat deleted meanwhile is not kept. */
  async saveAnswer(record: AnswerRecord): Promise<ChatMessage> {
    const { value } = await this.store.saveBotMessage({
      chatId: record.chatId,
      generationId: record.generationId,
      text: record.text,
      status: record.status,
      sources: record.sources,
      grounded: record.grounded,
      createdAt: new Date(record.askedAt + 1),
    });
    if (!(await this.store.getChat(record.chatId))) await this.store.deleteMessage(record.chatId, value.id);
    return value;
  }

  /**
   * Ends a generation that no worker is running (a removed waiting job, a job that
   * failed in the stall checker, a stale entry): stores what it streamed and sends
   * its one terminal frame.
   */
  async finalizeUnrun(chatId: string, generationId: string, status: BotStatus, enqueuedAt?: number): Promise<void> {
    const meta = await this.log.meta(generationId);
    if (!meta?.done) {
      const existing = await this.store.findBotMessageByGeneration(generationId);
      const message =
        existing ??
        (await this.saveAnswer({
          chatId,
          generationId,
          text: await this.log.streamedText(generationId),
          status,
          sources: [],
          askedAt: enqueuedAt ?? meta?.startedAt ?? Date.now(),
        }));
      await this.log.append(
        chatId,
        generationId,
        '*',
        [
          {
            mt: 'chat_message_bot_complete',
            chatId,
            generationId,
            attempt: Math.max(meta?.attempt ?? 0, 1),
            status: message.status ?? status,
            messageId: message.id,
            text: message.text,
            sources: message.sources ?? [],
          },
        ],
        true,
      );
    }
    await this.advance(chatId, generationId);
  }

  /** Removes a finished generation from its chat's order and wakes the next one. */
  async advance(chatId: string, generationId: string): Promise<void> {
    await this.fifo.remove(chatId, generationId);
    const next = await this.fifo.head(chatId);
    if (next) await this.queue.promote(next);
  }
}
