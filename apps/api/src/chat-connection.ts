import type { ParsedClientFrame, ResumeParams, ServerFrame } from '@ragstream/protocol';
import { errorFrame, parseClientFrame, parseClientFrameText } from '@ragstream/protocol';
import type { ChatSubscription, Presence, SubscriptionDeps } from '@ragstream/realtime';
import { ChatSubscription as Subscription } from '@ragstream/realtime';
import type { Logger } from '@ragstream/runtime';
import type { ChatStore } from '@ragstream/store';
import { ApiError, chatNotFound } from './api-error.ts';
import type { ChatService } from './chat-service.ts';

export interface ConnectionDeps {
  store: ChatStore;
  service: ChatService;
  presence: Presence;
  subscriptions: SubscriptionDeps;
  maxMessageBytes: number;
  logger: Logger;
}

/**
 * One client connection to one chat, whatever the transport: it counts towards
 * presence, receives the chat's generation frames (with resume), and turns inbound
 * frames into stored messages, answers and stops.
 */
export class ChatConnection {
  private subscription: ChatSubscription | undefined;
  private closed = false;
  private inbound: Promise<void> = Promise.resolve();

  private constructor(
    private readonly deps: ConnectionDeps,
    readonly chatId: string,
    private readonly send: (frame: ServerFrame) => void,
  ) {}

  /** Throws ApiError('chat_not_found') for an unknown chat. */
  static async open(
    deps: ConnectionDeps,
    chatId: string,
    resume: ResumeParams,
    send: (frame: ServerFrame) => void,
  ): Promise<ChatConnection> {
    if (!(await deps.store.getChat(chatId))) throw chatNotFound(chatId);
    const connection = new ChatConnection(deps, chatId, send);
    await deps.presence.connected(chatId);
    try {
      connection.subscription = await Subscription.open(deps.subscriptions, chatId, resume, (frame) => {
        if (!connection.closed) send(frame);
      });
    } catch (err) {
      await deps.presence.disconnected(chatId);
      throw err;
    }
    return connection;
  }

  /** Handles one JSON text frame. */
  handleText(text: string): Promise<void> {
    return this.enqueue(() => parseClientFrameText(text, this.deps.maxMessageBytes));
  }

  /** Handles one decoded inbound frame; every failure becomes an `error` frame and the connection stays open. */
  handle(input: unknown): Promise<void> {
    return this.enqueue(() => parseClientFrame(input, this.deps.maxMessageBytes));
  }

  /** One frame at a time per connection, so that a client's messages are stored in the order it sent them. */
  private enqueue(parse: () => ParsedClientFrame): Promise<void> {
    this.inbound = this.inbound.then(() => this.dispatch(parse()));
    return this.inbound;
  }

  private async dispatch(parsed: ParsedClientFrame): Promise<void> {
    if (!parsed.ok) {
      this.send(parsed.error);
      return;
    }
    const frame = parsed.frame;
    const clientMessageId = frame.mt === 'message_upload' ? frame.clientMessageId : undefined;
    try {
      if (frame.mt === 'stop') {
        await this.deps.service.stop(this.chatId);
        return;
      }
      const stored = await this.deps.service.storeUserMessage(this.chatId, {
        text: frame.message,
        clientMessageId: frame.clientMessageId,
      });
      const dispatch = await this.deps.service.admitAnswer(stored, {
        userId: frame.userId,
        timezone: frame.timezone,
        selectedLanguage: frame.selectedLanguage,
      });
      this.send({
        mt: 'message_upload_confirm',
        chatId: this.chatId,
        messageId: stored.message.id,
        generationId: stored.generationId,
        ...(frame.clientMessageId === undefined ? {} : { clientMessageId: frame.clientMessageId }),
        ...(stored.created ? {} : { duplicate: true }),
      });
      await dispatch?.();
    } catch (err) {
      if (err instanceof ApiError) {
        this.send(err.toFrame(clientMessageId));
        return;
      }
      this.deps.logger.error('frame handling failed', { chatId: this.chatId, mt: frame.mt, err });
      this.send(errorFrame('internal', 'the server could not handle this frame; try again', clientMessageId));
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.subscription?.close();
    await this.deps.presence.disconnected(this.chatId);
  }
}
