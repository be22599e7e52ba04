import type { BotStatus, Chat, ChatMessage, MessageRole, Page, Source } from '@ragstream/protocol';
import { isObjectId } from '@ragstream/protocol';
import type Database from 'better-sqlite3';
import { ObjectId } from 'bson';
import type { BotMessageInput, ChatStore, NewChat, NewMessage, PageRequest, Stored } from './chat-store.ts';
import { assertChatId, assertObjectId } from './ids.ts';
import { DEFAULT_ORGANISATION_ID } from './knowledge-store.ts';
import type { Position } from './pagination.ts';
import { decodeCursor, toPage } from './pagination.ts';
import { openSqliteDatabase } from './sqlite-database.ts';

export interface SqliteChatStoreOptions {
  filename: string;
}

interface ChatRow {
  id: string;
  user_id: string;
  organisation_id: string;
  title: string;
  created_at: number;
  updated_at: number;
}

interface MessageRow {
  id: string;
  chat_id: string;
  role: MessageRole;
  text: string;
  status: BotStatus | null;
  generation_id: string | null;
  client_message_id: string | null;
  sources: string | null;
  grounded: number | null;
  created_at: number;
  updated_at: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS chats (
    id TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    organisation_id TEXT NOT NULL DEFAULT '${DEFAULT_ORGANISATION_ID}',
    title TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS chats_user_created ON chats (user_id, created_at, id);

  CREATE TABLE IF NOT EXISTS chat_messages (
    id TEXT PRIMARY KEY,
    chat_id TEXT NOT NULL,
    role TEXT NOT NULL,
    text TEXT NOT NULL,
    status TEXT,
    generation_id TEXT,
    client_message_id TEXT,
    sources TEXT,
    grounded INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS chat_messages_chat_created ON chat_messages (chat_id, created_at, id);
  CREATE UNIQUE INDEX IF NOT EXISTS chat_messages_client_message
    ON chat_messages (chat_id, client_message_id) WHERE client_message_id IS NOT NULL;
  CREATE UNIQUE INDEX IF NOT EXISTS chat_messages_generation
    ON chat_messages (generation_id) WHERE generation_id IS NOT NULL;
`;

/**
 * Files made by earlier versions get the newer columns: chats belong to the default
 * organisation, and earlier answers have no grounded flag.
 */
function migrate(db: Database.Database): void {
  const columnsOf = (table: string): string[] =>
    db
      .prepare<[string], { name: string }>('SELECT name FROM pragma_table_info(?)')
      .all(table)
      .map((c) => c.name);
  if (!columnsOf('chats').includes('organisation_id')) {
    db.exec(`ALTER TABLE chats ADD COLUMN organisation_id TEXT NOT NULL DEFAULT '${DEFAULT_ORGANISATION_ID}'`);
  }
  if (!columnsOf('chat_messages').includes('grounded')) db.exec('ALTER TABLE chat_messages ADD COLUMN grounded INTEGER');
}

/** Sorts before every real (createdAt, id), so the first page needs no separate query. */
const START: Position = { createdAt: Number.MIN_SAFE_INTEGER, id: '' };

function prepareStatements(db: Database.Database) {
  return {
    insertChat: db.prepare<[ChatRow]>(
      `INSERT INTO chats (id, user_id, organisation_id, title, created_at, updated_at)
       VALUES (@id, @user_id, @organisation_id, @title, @created_at, @updated_at)`,
    ),
    getChat: db.prepare<[string], ChatRow>('SELECT * FROM chats WHERE id = ?'),
    listChats: db.prepare<[string, number, string, number], ChatRow>(
      `SELECT * FROM chats WHERE user_id = ? AND (created_at, id) > (?, ?)
       ORDER BY created_at, id LIMIT ?`,
    ),
    updateChat: db.prepare<[string, number, string], ChatRow>('UPDATE chats SET title = ?, updated_at = ? WHERE id = ? RETURNING *'),
    deleteChat: db.prepare<[string]>('DELETE FROM chats WHERE id = ?'),
    deleteChatMessages: db.prepare<[string]>('DELETE FROM chat_messages WHERE chat_id = ?'),

    insertMessage: db.prepare<[MessageRow]>(
      `INSERT INTO chat_messages
         (id, chat_id, role, text, status, generation_id, client_message_id, sources, grounded, created_at, updated_at)
       VALUES
         (@id, @chat_id, @role, @text, @status, @generation_id, @client_message_id, @sources, @grounded, @created_at, @updated_at)
       ON CONFLICT DO NOTHING`,
    ),
    getMessage: db.prepare<[string, string], MessageRow>('SELECT * FROM chat_messages WHERE chat_id = ? AND id = ?'),
    messageByClientId: db.prepare<[string, string], MessageRow>('SELECT * FROM chat_messages WHERE chat_id = ? AND client_message_id = ?'),
    messageByGeneration: db.prepare<[string], MessageRow>('SELECT * FROM chat_messages WHERE generation_id = ?'),
    listMessages: db.prepare<[string, number, string, number], MessageRow>(
      `SELECT * FROM chat_messages WHERE chat_id = ? AND (created_at, id) > (?, ?)
       ORDER BY created_at, id LIMIT ?`,
    ),
    recentMessages: db.prepare<[string, number], MessageRow>(
      `SELECT * FROM (
         SELECT * FROM chat_messages WHERE chat_id = ? ORDER BY created_at DESC, id DESC LIMIT ?
       ) ORDER BY created_at, id`,
    ),
    updateMessage: db.prepare<[string, number, string, string], MessageRow>(
      'UPDATE chat_messages SET text = ?, updated_at = ? WHERE chat_id = ? AND id = ? RETURNING *',
    ),
    deleteMessage: db.prepare<[string, string]>('DELETE FROM chat_messages WHERE chat_id = ? AND id = ?'),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * SQLite adapter. WAL plus a busy timeout lets API nodes and workers on one host share
 * the file; every read-then-write runs in an IMMEDIATE transaction so it is atomic across processes.
 */
export class SqliteChatStore implements ChatStore {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  #statements: Statements | undefined;

  constructor(options: SqliteChatStoreOptions) {
    this.#db = openSqliteDatabase(options.filename);
  }

  async init(): Promise<void> {
    this.#db
      .transaction(() => {
        this.#db.exec(SCHEMA);
        migrate(this.#db);
      })
      .immediate();
    this.#statements ??= prepareStatements(this.#db);
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  async createChat(input: NewChat): Promise<Chat> {
    const organisationId = input.organisationId ?? DEFAULT_ORGANISATION_ID;
    assertObjectId('organisationId', organisationId);
    const now = Date.now();
    const row: ChatRow = {
      id: new ObjectId().toHexString(),
      user_id: input.userId,
      organisation_id: organisationId,
      title: input.title,
      created_at: now,
      updated_at: now,
    };
    this.#q.insertChat.run(row);
    return toChat(row);
  }

  async getChat(chatId: string): Promise<Chat | null> {
    if (!isObjectId(chatId)) return null;
    const row = this.#q.getChat.get(chatId);
    return row ? toChat(row) : null;
  }

  async listChatsByUser(userId: string, page: PageRequest): Promise<Page<Chat>> {
    const after = page.cursor === undefined ? START : decodeCursor(page.cursor);
    const rows = this.#q.listChats.all(userId, after.createdAt, after.id, page.limit + 1);
    return toPage(rows.map(toChat), page.limit);
  }

  async updateChat(chatId: string, patch: { title: string }): Promise<Chat | null> {
    if (!isObjectId(chatId)) return null;
    const row = this.#q.updateChat.get(patch.title, Date.now(), chatId);
    return row ? toChat(row) : null;
  }

  async deleteChat(chatId: string): Promise<boolean> {
    if (!isObjectId(chatId)) return false;
    const q = this.#q;
    return this.#db
      .transaction(() => {
        q.deleteChatMessages.run(chatId);
        return q.deleteChat.run(chatId).changes > 0;
      })
      .immediate();
  }

  async createMessage(input: NewMessage): Promise<Stored<ChatMessage>> {
    assertChatId(input.chatId);
    if (input.id !== undefined) assertObjectId('id', input.id);
    const now = Date.now();
    const row: MessageRow = {
      id: input.id ?? new ObjectId().toHexString(),
      chat_id: input.chatId,
      role: input.role,
      text: input.text,
      status: null,
      generation_id: null,
      client_message_id: input.clientMessageId ?? null,
      sources: null,
      grounded: null,
      created_at: now,
      updated_at: now,
    };
    const clientMessageId = input.clientMessageId;
    return this.#insertOrFind(row, () =>
      clientMessageId === undefined ? undefined : this.#q.messageByClientId.get(input.chatId, clientMessageId),
    );
  }

  async findMessageByClientId(chatId: string, clientMessageId: string): Promise<ChatMessage | null> {
    if (!isObjectId(chatId)) return null;
    const row = this.#q.messageByClientId.get(chatId, clientMessageId);
    return row ? toMessage(row) : null;
  }

  async getMessage(chatId: string, messageId: string): Promise<ChatMessage | null> {
    if (!isObjectId(chatId) || !isObjectId(messageId)) return null;
    const row = this.#q.getMessage.get(chatId, messageId);
    return row ? toMessage(row) : null;
  }

  async listMessages(chatId: string, page: PageRequest): Promise<Page<ChatMessage>> {
    const after = page.cursor === undefined ? START : decodeCursor(page.cursor);
    if (!isObjectId(chatId)) return { items: [], nextCursor: null };
    const rows = this.#q.listMessages.all(chatId, after.createdAt, after.id, page.limit + 1);
    return toPage(rows.map(toMessage), page.limit);
  }

  async recentMessages(chatId: string, count: number): Promise<ChatMessage[]> {
    // A negative LIMIT means "no limit" to SQLite.
    if (!isObjectId(chatId) || count <= 0) return [];
    return this.#q.recentMessages.all(chatId, count).map(toMessage);
  }

  async updateMessage(chatId: string, messageId: string, patch: { text: string }): Promise<ChatMessage | null> {
    if (!isObjectId(chatId) || !isObjectId(messageId)) return null;
    const row = this.#q.updateMessage.get(patch.text, Date.now(), chatId, messageId);
    return row ? toMessage(row) : null;
  }

  async deleteMessage(chatId: string, messageId: string): Promise<boolean> {
    if (!isObjectId(chatId) || !isObjectId(messageId)) return false;
    return this.#q.deleteMessage.run(chatId, messageId).changes > 0;
  }

  async saveBotMessage(input: BotMessageInput): Promise<Stored<ChatMessage>> {
    assertChatId(input.chatId);
    const row: MessageRow = {
      id: input.id ?? new ObjectId().toHexString(),
      chat_id: input.chatId,
      role: 'bot',
      text: input.text,
      status: input.status,
      generation_id: input.generationId,
      client_message_id: null,
      sources: JSON.stringify(input.sources),
      grounded: input.grounded === undefined ? null : Number(input.grounded),
      created_at: input.createdAt.getTime(),
      updated_at: Date.now(),
    };
    return this.#insertOrFind(row, () => this.#q.messageByGeneration.get(input.generationId));
  }

  async findBotMessageByGeneration(generationId: string): Promise<ChatMessage | null> {
    const row = this.#q.messageByGeneration.get(generationId);
    return row ? toMessage(row) : null;
  }

  get #q(): Statements {
    if (!this.#statements) throw new Error('SqliteChatStore: call init() before using the store');
    return this.#statements;
  }

  /** Inserts `row` unless it collides with a unique key; then returns the row `existing` finds. */
  #insertOrFind(row: MessageRow, existing: () => MessageRow | undefined): Stored<ChatMessage> {
    const q = this.#q;
    return this.#db
      .transaction((): Stored<ChatMessage> => {
        if (q.insertMessage.run(row).changes > 0) return { value: toMessage(row), created: true };
        const found = existing();
        if (!found) throw new Error('chat_messages: insert conflicted but no existing message was found');
        return { value: toMessage(found), created: false };
      })
      .immediate();
  }
}

function toChat(row: ChatRow): Chat {
  return {
    id: row.id,
    userId: row.user_id,
    organisationId: row.organisation_id,
    title: row.title,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function toMessage(row: MessageRow): ChatMessage {
  const message: ChatMessage = {
    id: row.id,
    chatId: row.chat_id,
    role: row.role,
    text: row.text,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  if (row.status !== null) message.status = row.status;
  if (row.generation_id !== null) message.generationId = row.generation_id;
  if (row.client_message_id !== null) message.clientMessageId = row.client_message_id;
  if (row.sources !== null) message.sources = JSON.parse(row.sources) as Source[];
  if (row.grounded !== null) message.grounded = row.grounded === 1;
  return message;
}
