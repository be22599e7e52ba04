import type { BotStatus, Chat, ChatMessage, MessageRole, Page, Source } from '@ragstream/protocol';

export interface PageRequest {
  limit: number;
  cursor?: string | undefined;
}

export interface NewChat {
  userId: string;
  title: string;
  /** Defaults to DEFAULT_ORGANISATION_ID; a malformed id is refused (TypeError). Existence is not checked. */
  organisationId?: string | undefined;
}

export interface NewMessage {
  /** Chosen before storing (so that its answer's lease can be taken first); a new one when absent. */
  id?: string | undefined;
  chatId: string;
  role: MessageRole;
  text: string;
  /** Client-chosen id; a second message with the same (chatId, clientMessageId) is not stored again. */
  clientMessageId?: string | undefined;
}

export interface BotMessageInput {
  /** The id announced in the answer's terminal frame; a new one when absent. */
  id?: string | undefined;
  chatId: string;
  generationId: string;
  text: string;
  status: BotStatus;
  sources: Source[];
  /** false for auto-replies and answers not based on the organisation's documents. */
  grounded?: boolean | undefined;
  /** When the answer began, so that it sorts after the message it answers. */
  createdAt: Date;
}

export interface Stored<T> {
  value: T;
  /** false when an existing record was returned instead of a new one. */
  created: boolean;
}

/** Thrown for a cursor that this store did not issue. */
export class InvalidCursorError extends Error {
  override readonly name = 'InvalidCursorError';
  constructor() {
    super('cursor is not valid');
  }
}

/**
 * The chat store port: collections `chats` and `chat_messages`. Lists are oldest
 * first, ordered by (createdAt, id). Unknown or malformed ids read as absent.
 */
export interface ChatStore {
  readonly kind: string;
  init(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  createChat(input: NewChat): Promise<Chat>;
  getChat(chatId: string): Promise<Chat | null>;
  listChatsByUser(userId: string, page: PageRequest): Promise<Page<Chat>>;
  updateChat(chatId: string, patch: { title: string }): Promise<Chat | null>;
  /** Deletes the chat and all of its messages; false when it did not exist. */
  deleteChat(chatId: string): Promise<boolean>;

  /** Idempotent by (chatId, clientMessageId) when a client message id is given. */
  createMessage(input: NewMessage): Promise<Stored<ChatMessage>>;
  getMessage(chatId: string, messageId: string): Promise<ChatMessage | null>;
  /** The message stored with this client message id in the chat, if any (a resend finds its first send). */
  findMessageByClientId(chatId: string, clientMessageId: string): Promise<ChatMessage | null>;
  listMessages(chatId: string, page: PageRequest): Promise<Page<ChatMessage>>;
  /** The newest `count` messages, oldest first (for conversation history). */
  recentMessages(chatId: string, count: number): Promise<ChatMessage[]>;
  updateMessage(chatId: string, messageId: string, patch: { text: string }): Promise<ChatMessage | null>;
  deleteMessage(chatId: string, messageId: string): Promise<boolean>;

  /** Idempotent by generationId: one bot message per generation, whatever the retries. */
  saveBotMessage(input: BotMessageInput): Promise<Stored<ChatMessage>>;
  findBotMessageByGeneration(generationId: string): Promise<ChatMessage | null>;
}
