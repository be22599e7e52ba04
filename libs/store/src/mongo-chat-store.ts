import type { BotStatus, Chat, ChatMessage, MessageRole, Page, Source } from '@ragstream/protocol';
import { isObjectId } from '@ragstream/protocol';
import { ObjectId } from 'bson';
import type { Collection, Filter } from 'mongodb';
import { MongoClient, MongoServerError } from 'mongodb';
import type { BotMessageInput, ChatStore, NewChat, NewMessage, PageRequest, Stored } from './chat-store.ts';
import { assertChatId, assertObjectId } from './ids.ts';
import { DEFAULT_ORGANISATION_ID } from './knowledge-store.ts';
import { afterCursor, createIndexesOneByOne, DEFAULT_DB_NAME, DUPLICATE_KEY, dbNameFromUrl, isFerretDb } from './mongo-queries.ts';
import { toPage } from './pagination.ts';

export interface MongoChatStoreOptions {
  url: string;
  /** Defaults to the database named in the URL path, else `ragstream`. */
  dbName?: string | undefined;
}

interface ChatDoc {
  _id: ObjectId;
  userId: string;
  /** Absent on chats stored before chats had an organisation: those belong to the default one. */
  organisationId?: ObjectId;
  title: string;
  createdAt: Date;
  updatedAt: Date;
}

interface MessageDoc {
  _id: ObjectId;
  chatId: ObjectId;
  role: MessageRole;
  text: string;
  status?: BotStatus;
  generationId?: string;
  clientMessageId?: string;
  sources?: Source[];
  grounded?: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** MongoDB adapter. Idempotent inserts rely on partial unique indexes, so they hold across processes. */
export class MongoChatStore implements ChatStore {
  readonly kind = 'mongodb';
  readonly dbName: string;
  readonly #client: MongoClient;
  readonly #chats: Collection<ChatDoc>;
  readonly #messages: Collection<MessageDoc>;

  constructor(options: MongoChatStoreOptions) {
    // ignoreUndefined keeps absent optional fields absent rather than stored as null.
    this.#client = new MongoClient(options.url, { ignoreUndefined: true });
    this.dbName = options.dbName ?? dbNameFromUrl(options.url) ?? DEFAULT_DB_NAME;
    const db = this.#client.db(this.dbName);
    this.#chats = db.collection<ChatDoc>('chats');
    this.#messages = db.collection<MessageDoc>('chat_messages');
  }

  async init(): Promise<void> {
    await this.#client.connect();
    // On FerretDB a plain unique index does what the partial one does on MongoDB (see isFerretDb).
    const ferretDb = await isFerretDb(this.#client);
    const onlyStrings = (field: string) => (ferretDb ? {} : { partialFilterExpression: { [field]: { $type: 'string' } } });
    await createIndexesOneByOne(this.#chats, [{ key: { userId: 1, createdAt: 1, _id: 1 }, name: 'user_created' }]);
    await createIndexesOneByOne(this.#messages, [
      { key: { chatId: 1, createdAt: 1, _id: 1 }, name: 'chat_created' },
      { key: { chatId: 1, clientMessageId: 1 }, name: 'chat_client_message', unique: true, ...onlyStrings('clientMessageId') },
      { key: { generationId: 1 }, name: 'generation', unique: true, ...onlyStrings('generationId') },
    ]);
  }

  async ping(): Promise<void> {
    await this.#client.db(this.dbName).command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  async createChat(input: NewChat): Promise<Chat> {
    const organisationId = input.organisationId ?? DEFAULT_ORGANISATION_ID;
    assertObjectId('organisationId', organisationId);
    const now = new Date();
    const doc: ChatDoc = {
      _id: new ObjectId(),
      userId: input.userId,
      organisationId: new ObjectId(organisationId),
      title: input.title,
      createdAt: now,
      updatedAt: now,
    };
    await this.#chats.insertOne(doc);
    return toChat(doc);
  }

  async getChat(chatId: string): Promise<Chat | null> {
    if (!isObjectId(chatId)) return null;
    const doc = await this.#chats.findOne({ _id: new ObjectId(chatId) });
    return doc ? toChat(doc) : null;
  }

  async listChatsByUser(userId: string, page: PageRequest): Promise<Page<Chat>> {
    const after = afterCursor(page.cursor);
    const docs = await this.#chats
      .find({ userId, ...after })
      .sort({ createdAt: 1, _id: 1 })
      .limit(page.limit + 1)
      .toArray();
    return toPage(docs.map(toChat), page.limit);
  }

  async updateChat(chatId: string, patch: { title: string }): Promise<Chat | null> {
    if (!isObjectId(chatId)) return null;
    const doc = await this.#chats.findOneAndUpdate(
      { _id: new ObjectId(chatId) },
      { $set: { title: patch.title, updatedAt: new Date() } },
      { returnDocument: 'after' },
    );
    return doc ? toChat(doc) : null;
  }

  async deleteChat(chatId: string): Promise<boolean> {
    if (!isObjectId(chatId)) return false;
    const _id = new ObjectId(chatId);
    const { deletedCount } = await this.#chats.deleteOne({ _id });
    // Runs even when the chat is gone, to clear messages a half-finished earlier delete left behind.
    await this.#messages.deleteMany({ chatId: _id });
    return deletedCount > 0;
  }

  async createMessage(input: NewMessage): Promise<Stored<ChatMessage>> {
    assertChatId(input.chatId);
    if (input.id !== undefined) assertObjectId('id', input.id);
    const now = new Date();
    const chatId = new ObjectId(input.chatId);
    const doc: MessageDoc = {
      _id: new ObjectId(input.id),
      chatId,
      role: input.role,
      text: input.text,
      clientMessageId: input.clientMessageId,
      createdAt: now,
      updatedAt: now,
    };
    const { clientMessageId } = input;
    return this.#insertOrFind(doc, clientMessageId === undefined ? undefined : { chatId, clientMessageId: stringEquals(clientMessageId) });
  }

  async findMessageByClientId(chatId: string, clientMessageId: string): Promise<ChatMessage | null> {
    if (!isObjectId(chatId)) return null;
    const doc = await this.#messages.findOne({ chatId: new ObjectId(chatId), clientMessageId: stringEquals(clientMessageId) });
    return doc ? toMessage(doc) : null;
  }

  async getMessage(chatId: string, messageId: string): Promise<ChatMessage | null> {
    if (!isObjectId(chatId) || !isObjectId(messageId)) return null;
    const doc = await this.#messages.findOne({ _id: new ObjectId(messageId), chatId: new ObjectId(chatId) });
    return doc ? toMessage(doc) : null;
  }

  async listMessages(chatId: string, page: PageRequest): Promise<Page<ChatMessage>> {
    const after = afterCursor(page.cursor);
    if (!isObjectId(chatId)) return { items: [], nextCursor: null };
    const docs = await this.#messages
      .find({ chatId: new ObjectId(chatId), ...after })
      .sort({ createdAt: 1, _id: 1 })
      .limit(page.limit + 1)
      .toArray();
    return toPage(docs.map(toMessage), page.limit);
  }

  async recentMessages(chatId: string, count: number): Promise<ChatMessage[]> {
    // limit(0) means "no limit" to MongoDB.
    if (!isObjectId(chatId) || count <= 0) return [];
    const docs = await this.#messages
      .find({ chatId: new ObjectId(chatId) })
      .sort({ createdAt: -1, _id: -1 })
      .limit(count)
      .toArray();
    return docs.reverse().map(toMessage);
  }

  async updateMessage(chatId: string, messageId: string, patch: { text: string }): Promise<ChatMessage | null> {
    if (!isObjectId(chatId) || !isObjectId(messageId)) return null;
    const doc = await this.#messages.findOneAndUpdate(
      { _id: new ObjectId(messageId), chatId: new ObjectId(chatId) },
      { $set: { text: patch.text, updatedAt: new Date() } },
      { returnDocument: 'after' },
    );
    return doc ? toMessage(doc) : null;
  }

  async deleteMessage(chatId: string, messageId: string): Promise<boolean> {
    if (!isObjectId(chatId) || !isObjectId(messageId)) return false;
    const { deletedCount } = await this.#messages.deleteOne({
      _id: new ObjectId(messageId),
      chatId: new ObjectId(chatId),
    });
    return deletedCount > 0;
  }

  async saveBotMessage(input: BotMessageInput): Promise<Stored<ChatMessage>> {
    assertChatId(input.chatId);
    const doc: MessageDoc = {
      _id: input.id === undefined ? new ObjectId() : new ObjectId(input.id),
      chatId: new ObjectId(input.chatId),
      role: 'bot',
      text: input.text,
      status: input.status,
      generationId: input.generationId,
      sources: input.sources,
      ...(input.grounded === undefined ? {} : { grounded: input.grounded }),
      createdAt: input.createdAt,
      updatedAt: new Date(),
    };
    return this.#insertOrFind(doc, { generationId: stringEquals(input.generationId) });
  }

  async findBotMessageByGeneration(generationId: string): Promise<ChatMessage | null> {
    const doc = await this.#messages.findOne({ generationId: stringEquals(generationId) });
    return doc ? toMessage(doc) : null;
  }

  /** Inserts `doc`; on a duplicate key returns the message `existing` matches (the unique key that clashed). */
  async #insertOrFind(doc: MessageDoc, existing: Filter<MessageDoc> | undefined): Promise<Stored<ChatMessage>> {
    try {
      await this.#messages.insertOne(doc);
      return { value: toMessage(doc), created: true };
    } catch (error) {
      if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY || !existing) throw error;
      const found = await this.#messages.findOne(existing);
      if (!found) throw error;
      return { value: toMessage(found), created: false };
    }
  }
}

/**
 * Equality plus the partial indexes' `$type: 'string'` filter: the query planner does not infer
 * the type from the equality, and without it would scan the collection instead of using the index.
 */
function stringEquals(value: string) {
  return { $eq: value, $type: 'string' } as const;
}

function toChat(doc: ChatDoc): Chat {
  return {
    id: doc._id.toHexString(),
    userId: doc.userId,
    organisationId: doc.organisationId?.toHexString() ?? DEFAULT_ORGANISATION_ID,
    title: doc.title,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
}

function toMessage(doc: MessageDoc): ChatMessage {
  const message: ChatMessage = {
    id: doc._id.toHexString(),
    chatId: doc.chatId.toHexString(),
    role: doc.role,
    text: doc.text,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
  if (doc.status !== undefined) message.status = doc.status;
  if (doc.generationId !== undefined) message.generationId = doc.generationId;
  if (doc.clientMessageId !== undefined) message.clientMessageId = doc.clientMessageId;
  if (doc.sources !== undefined) message.sources = doc.sources;
  if (doc.grounded !== undefined) message.grounded = doc.grounded;
  return message;
}
