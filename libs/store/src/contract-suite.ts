import { randomUUID } from 'node:crypto';
import type { Chat, ChatMessage, Source } from '@ragstream/protocol';
import { isObjectId } from '@ragstream/protocol';
import { ObjectId } from 'bson';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BotMessageInput, ChatStore, PageRequest } from './chat-store.ts';
import { InvalidCursorError } from './chat-store.ts';
import { DEFAULT_ORGANISATION_ID } from './knowledge-store.ts';

/** Well-formed, but its timestamp (1970) is older than any id a store issues. */
const UNKNOWN_ID = '000000010000000000000001';
const MALFORMED_IDS = ['', 'nope', '0123456789ABCDEF01234567', '0123456789abcdef0123456', "0' OR '1'='1"];
const FOREIGN_CURSORS = ['', 'not a cursor', '!!!!', Buffer.from('12:abc').toString('base64url'), 'eyJhIjoxfQ'];
const SOURCES: Source[] = [
  { documentId: 'doc-1', chunkId: 'chunk-1', title: 'Handbook', score: 0.9 },
  { documentId: 'doc-2', chunkId: 'chunk-7', score: 0.4 },
];

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads every page, checking that each respects the limit and only the last has no cursor. */
async function readAllPages<T>(
  list: (page: PageRequest) => Promise<{ items: T[]; nextCursor: string | null }>,
  limit: number,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await list({ limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    pages.push(page.items);
    if (page.nextCursor === null) return pages;
    expect(page.items).toHaveLength(limit);
    cursor = page.nextCursor;
  }
}

/** The ChatStore behaviour every adapter must share. `makeStore` returns an initialised store. */
export function describeChatStoreContract(name: string, makeStore: () => Promise<ChatStore>): void {
  describe(`${name} satisfies the ChatStore contract`, () => {
    let store: ChatStore;

    beforeAll(async () => {
      store = await makeStore();
    });

    afterAll(async () => {
      await store?.close();
    });

    const newUserId = () => `user-${randomUUID()}`;
    const newChat = (title = 'a chat') => store.createChat({ userId: newUserId(), title });
    const userMessage = (chatId: string, text: string, clientMessageId?: string) =>
      store.createMessage({ chatId, role: 'user', text, clientMessageId });
    const botInput = (chatId: string, overrides: Partial<BotMessageInput> = {}): BotMessageInput => ({
      chatId,
      generationId: `gen-${randomUUID()}`,
      text: 'an answer',
      status: 'complete',
      sources: SOURCES,
      createdAt: new Date(),
      ...overrides,
    });
    const allMessages = async (chatId: string) => (await store.listMessages(chatId, { limit: 200 })).items;

    it('initialises idempotently and answers ping', async () => {
      await store.init();
      await store.ping();
    });

    describe('chats', () => {
      it('creates a chat and reads it back', async () => {
        const userId = newUserId();
        const chat = await store.createChat({ userId, title: 'First' });
        expect(isObjectId(chat.id)).toBe(true);
        expect(chat).toMatchObject({ userId, title: 'First', organisationId: DEFAULT_ORGANISATION_ID });
        expect(Object.keys(chat).sort()).toEqual(['createdAt', 'id', 'organisationId', 'title', 'updatedAt', 'userId']);
        expect(new Date(chat.createdAt).toISOString()).toBe(chat.createdAt);
        expect(chat.updatedAt).toBe(chat.createdAt);
        expect(await store.getChat(chat.id)).toStrictEqual(chat);
      });

      it('keeps the organisation a chat was created in, defaulting to the default organisation', async () => {
        const userId = newUserId();
        const organisationId = new ObjectId().toHexString();
        const inOrganisation = await store.createChat({ userId, title: 'org', organisationId });
        const explicitDefault = await store.createChat({ userId, title: 'undefined', organisationId: undefined });
        expect(inOrganisation.organisationId).toBe(organisationId);
        expect(explicitDefault.organisationId).toBe(DEFAULT_ORGANISATION_ID);
        expect(await store.getChat(inOrganisation.id)).toStrictEqual(inOrganisation);

        await sleep(5);
        const renamed = await store.updateChat(inOrganisation.id, { title: 'renamed' });
        expect(renamed).toMatchObject({ organisationId, title: 'renamed' });
        expect((await store.listChatsByUser(userId, { limit: 10 })).items).toStrictEqual([renamed, explicitDefault]);
      });

      it('refuses to create a chat in a malformed organisation id', async () => {
        for (const organisationId of MALFORMED_IDS) {
          await expect(store.createChat({ userId: newUserId(), title: 'x', organisationId })).rejects.toThrow(TypeError);
        }
      });

      it("lists a user's chats oldest first across pages, without duplicates or gaps", async () => {
        const userId = newUserId();
        const created: Chat[] = [];
        for (let i = 0; i < 7; i++) created.push(await store.createChat({ userId, title: `chat ${i}` }));
        await newChat('another user');

        const pages = await readAllPages((page) => store.listChatsByUser(userId, page), 3);
        expect(pages.map((page) => page.length)).toEqual([3, 3, 1]);
        expect(pages.flat()).toStrictEqual(created);

        expect(await store.listChatsByUser(userId, { limit: 7 })).toStrictEqual({ items: created, nextCursor: null });
        expect(await store.listChatsByUser(newUserId(), { limit: 10 })).toStrictEqual({ items: [], nextCursor: null });
      });

      it('updates the title and bumps updatedAt', async () => {
        const chat = await newChat('Before');
        await sleep(5);
        const updated = await store.updateChat(chat.id, { title: 'After' });
        expect(updated).toMatchObject({ id: chat.id, userId: chat.userId, title: 'After', createdAt: chat.createdAt });
        expect(Date.parse(updated?.updatedAt ?? '')).toBeGreaterThan(Date.parse(chat.updatedAt));
        expect(await store.getChat(chat.id)).toStrictEqual(updated);
      });

      it('deletes a chat together with its messages only', async () => {
        const chat = await newChat();
        const other = await newChat();
        const question = await userMessage(chat.id, 'question', 'client-1');
        const answer = botInput(chat.id);
        await store.saveBotMessage(answer);
        const kept = await userMessage(other.id, 'elsewhere');

        expect(await store.deleteChat(chat.id)).toBe(true);
        expect(await store.getChat(chat.id)).toBeNull();
        expect(await allMessages(chat.id)).toEqual([]);
        expect(await store.getMessage(chat.id, question.value.id)).toBeNull();
        expect(await store.findBotMessageByGeneration(answer.generationId)).toBeNull();
        expect(await store.deleteChat(chat.id)).toBe(false);

        expect(await store.getChat(other.id)).toStrictEqual(other);
        expect(await allMessages(other.id)).toStrictEqual([kept.value]);
      });

      it('reads unknown and malformed chat ids as absent', async () => {
        for (const id of [UNKNOWN_ID, ...MALFORMED_IDS]) {
          expect(await store.getChat(id)).toBeNull();
          expect(await store.updateChat(id, { title: 'x' })).toBeNull();
          expect(await store.deleteChat(id)).toBe(false);
        }
      });

      it('rejects a cursor it did not issue', async () => {
        const userId = newUserId();
        for (const cursor of FOREIGN_CURSORS) {
          await expect(store.listChatsByUser(userId, { limit: 5, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
        }
      });
    });

    describe('messages', () => {
      it('creates, reads, updates and deletes a message', async () => {
        const chat = await newChat();
        const stored = await userMessage(chat.id, 'hello');
        expect(stored.created).toBe(true);
        const message = stored.value;
        expect(isObjectId(message.id)).toBe(true);
        expect(message).toMatchObject({ chatId: chat.id, role: 'user', text: 'hello' });
        expect(message.updatedAt).toBe(message.createdAt);
        expect(await store.getMessage(chat.id, message.id)).toStrictEqual(message);

        await sleep(5);
        const updated = await store.updateMessage(chat.id, message.id, { text: 'hello, edited' });
        expect(updated).toMatchObject({ id: message.id, text: 'hello, edited', createdAt: message.createdAt });
        expect(Date.parse(updated?.updatedAt ?? '')).toBeGreaterThan(Date.parse(message.updatedAt));
        expect(await store.getMessage(chat.id, message.id)).toStrictEqual(updated);

        expect(await store.deleteMessage(chat.id, message.id)).toBe(true);
        expect(await store.getMessage(chat.id, message.id)).toBeNull();
        expect(await store.deleteMessage(chat.id, message.id)).toBe(false);
        expect(await store.updateMessage(chat.id, message.id, { text: 'gone' })).toBeNull();
      });

      it('stores a message under the id it is given; a resend keeps the first one', async () => {
        const chat = await newChat();
        const id = new ObjectId().toHexString();
        const stored = await store.createMessage({ id, chatId: chat.id, role: 'user', text: 'chosen', clientMessageId: 'c-chosen' });
        expect(stored).toMatchObject({ created: true, value: { id, text: 'chosen' } });
        const resent = await store.createMessage({
          id: new ObjectId().toHexString(),
          chatId: chat.id,
          role: 'user',
          text: 'chosen',
          clientMessageId: 'c-chosen',
        });
        expect(resent).toStrictEqual({ created: false, value: stored.value });
        expect(await store.getMessage(chat.id, id)).toStrictEqual(stored.value);
      });

      it('omits absent optional fields and keeps a clientMessageId', async () => {
        const chat = await newChat();
        const plain = (await userMessage(chat.id, 'plain')).value;
        const tagged = (await userMessage(chat.id, 'tagged', 'client-42')).value;
        expect(Object.keys(plain).sort()).toEqual(['chatId', 'createdAt', 'id', 'role', 'text', 'updatedAt']);
        expect(Object.keys(tagged).sort()).toEqual(['chatId', 'clientMessageId', 'createdAt', 'id', 'role', 'text', 'updatedAt']);
        expect(tagged.clientMessageId).toBe('client-42');
        expect(await allMessages(chat.id)).toStrictEqual([plain, tagged]);
      });

      it('finds a message only within its own chat', async () => {
        const chat = await newChat();
        const other = await newChat();
        const message = (await userMessage(chat.id, 'mine')).value;
        expect(await store.getMessage(other.id, message.id)).toBeNull();
        expect(await store.updateMessage(other.id, message.id, { text: 'stolen' })).toBeNull();
        expect(await store.deleteMessage(other.id, message.id)).toBe(false);
        expect(await store.getMessage(chat.id, message.id)).toStrictEqual(message);
      });

      it('stores a message once per (chatId, clientMessageId)', async () => {
        const chat = await newChat();
        const first = await userMessage(chat.id, 'first', 'client-1');
        const again = await userMessage(chat.id, 'retry', 'client-1');
        expect(first.created).toBe(true);
        expect(again).toStrictEqual({ value: first.value, created: false });

        const racing = await Promise.all([1, 2, 3, 4].map((i) => userMessage(chat.id, `race ${i}`, 'client-2')));
        expect(racing.filter((result) => result.created)).toHaveLength(1);
        expect(new Set(racing.map((result) => result.value.id)).size).toBe(1);

        const elsewhere = await userMessage((await newChat()).id, 'same id, other chat', 'client-1');
        expect(elsewhere.created).toBe(true);
        expect(elsewhere.value.id).not.toBe(first.value.id);

        const stored = await allMessages(chat.id);
        expect(stored.map((message) => message.clientMessageId)).toEqual(['client-1', 'client-2']);
      });

      it('finds a message by its clientMessageId in its own chat only', async () => {
        const chat = await newChat();
        const { value } = await userMessage(chat.id, 'tagged', 'client-find');
        expect(await store.findMessageByClientId(chat.id, 'client-find')).toStrictEqual(value);
        expect(await store.findMessageByClientId(chat.id, 'client-other')).toBeNull();
        expect(await store.findMessageByClientId((await newChat()).id, 'client-find')).toBeNull();
        expect(await store.findMessageByClientId('not-an-id', 'client-find')).toBeNull();
      });

      it('stores every message without a clientMessageId', async () => {
        const chat = await newChat();
        const results = await Promise.all([userMessage(chat.id, 'same'), userMessage(chat.id, 'same')]);
        expect(results.every((result) => result.created)).toBe(true);
        expect(await allMessages(chat.id)).toHaveLength(2);
      });

      it('lists messages oldest first across pages, without duplicates or gaps', async () => {
        const chat = await newChat();
        const created: ChatMessage[] = [];
        for (let i = 0; i < 5; i++) created.push((await userMessage(chat.id, `message ${i}`)).value);
        await userMessage((await newChat()).id, 'another chat');

        const pages = await readAllPages((page) => store.listMessages(chat.id, page), 2);
        expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
        expect(pages.flat()).toStrictEqual(created);

        const single = await readAllPages((page) => store.listMessages(chat.id, page), 1);
        expect(single.flat()).toStrictEqual(created);
      });

      it('rejects a cursor it did not issue', async () => {
        const chat = await newChat();
        for (const cursor of FOREIGN_CURSORS) {
          await expect(store.listMessages(chat.id, { limit: 5, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
        }
      });

      it('orders by createdAt, so an answer that began earlier precedes later questions', async () => {
        const chat = await newChat();
        const q1 = (await userMessage(chat.id, 'q1')).value;
        const answerStart = new Date(Date.parse(q1.createdAt) + 1);
        await sleep(5);
        const q2 = (await userMessage(chat.id, 'q2')).value;
        const answer = (await store.saveBotMessage(botInput(chat.id, { createdAt: answerStart }))).value;

        expect(answer.createdAt).toBe(answerStart.toISOString());
        expect((await allMessages(chat.id)).map((message) => message.id)).toEqual([q1.id, answer.id, q2.id]);
        const firstPage = await store.listMessages(chat.id, { limit: 2 });
        expect(firstPage.items.map((message) => message.id)).toEqual([q1.id, answer.id]);
        const rest = await store.listMessages(chat.id, { limit: 2, cursor: firstPage.nextCursor ?? undefined });
        expect(rest).toStrictEqual({ items: [q2], nextCursor: null });
      });

      it('returns the newest messages, oldest first', async () => {
        const chat = await newChat();
        const created: ChatMessage[] = [];
        for (let i = 0; i < 5; i++) created.push((await userMessage(chat.id, `message ${i}`)).value);
        expect(await store.recentMessages(chat.id, 3)).toStrictEqual(created.slice(2));
        expect(await store.recentMessages(chat.id, 50)).toStrictEqual(created);
        expect(await store.recentMessages(chat.id, 0)).toEqual([]);
        expect(await store.recentMessages((await newChat()).id, 3)).toEqual([]);
      });

      it('reads unknown and malformed message ids as absent', async () => {
        const chat = await newChat();
        const message = (await userMessage(chat.id, 'here')).value;
        for (const id of [UNKNOWN_ID, ...MALFORMED_IDS]) {
          expect(await store.getMessage(chat.id, id)).toBeNull();
          expect(await store.updateMessage(chat.id, id, { text: 'x' })).toBeNull();
          expect(await store.deleteMessage(chat.id, id)).toBe(false);
          expect(await store.getMessage(id, message.id)).toBeNull();
          expect(await store.updateMessage(id, message.id, { text: 'x' })).toBeNull();
          expect(await store.deleteMessage(id, message.id)).toBe(false);
          expect(await store.listMessages(id, { limit: 10 })).toStrictEqual({ items: [], nextCursor: null });
          expect(await store.recentMessages(id, 10)).toEqual([]);
        }
        expect(await store.getMessage(chat.id, message.id)).toStrictEqual(message);
      });

      it('refuses to create messages for a malformed chat id', async () => {
        for (const id of MALFORMED_IDS) {
          await expect(userMessage(id, 'x')).rejects.toThrow(TypeError);
          await expect(store.saveBotMessage(botInput(id))).rejects.toThrow(TypeError);
        }
      });
    });

    describe('bot messages', () => {
      it('saves a bot message with status, generationId and sources', async () => {
        const chat = await newChat();
        const input = botInput(chat.id, { status: 'stopped', text: 'partial answer' });
        const stored = await store.saveBotMessage(input);
        expect(stored.created).toBe(true);
        expect(stored.value).toMatchObject({
          chatId: chat.id,
          role: 'bot',
          text: 'partial answer',
          status: 'stopped',
          generationId: input.generationId,
          sources: SOURCES,
          createdAt: input.createdAt.toISOString(),
        });
        expect('clientMessageId' in stored.value).toBe(false);
        expect(await store.findBotMessageByGeneration(input.generationId)).toStrictEqual(stored.value);
        expect(await store.getMessage(chat.id, stored.value.id)).toStrictEqual(stored.value);
      });

      it('keeps the grounded flag when given, and omits it otherwise', async () => {
        const chat = await newChat();
        const general = await store.saveBotMessage({ ...botInput(chat.id), grounded: false });
        const grounded = await store.saveBotMessage({ ...botInput(chat.id), grounded: true });
        const unknown = await store.saveBotMessage(botInput(chat.id));
        expect((await store.getMessage(chat.id, general.value.id))?.grounded).toBe(false);
        expect((await store.getMessage(chat.id, grounded.value.id))?.grounded).toBe(true);
        expect('grounded' in unknown.value).toBe(false);
      });

      it('keeps an empty sources list', async () => {
        const chat = await newChat();
        const stored = await store.saveBotMessage(botInput(chat.id, { sources: [], status: 'failed' }));
        expect((await store.getMessage(chat.id, stored.value.id))?.sources).toEqual([]);
      });

      it('stores one bot message per generationId', async () => {
        const chat = await newChat();
        const input = botInput(chat.id);
        const first = await store.saveBotMessage(input);
        const retry = await store.saveBotMessage({ ...input, text: 'a different retry', status: 'failed' });
        expect(retry).toStrictEqual({ value: first.value, created: false });
        expect(await allMessages(chat.id)).toStrictEqual([first.value]);
      });

      it('stores one bot message per generationId under concurrent saves', async () => {
        const chat = await newChat();
        const input = botInput(chat.id);
        const results = await Promise.all([1, 2, 3, 4, 5].map((i) => store.saveBotMessage({ ...input, text: `attempt ${i}` })));
        expect(results.filter((result) => result.created)).toHaveLength(1);
        expect(new Set(results.map((result) => result.value.id)).size).toBe(1);
        expect(await allMessages(chat.id)).toHaveLength(1);
      });

      it('finds nothing for an unknown generation', async () => {
        expect(await store.findBotMessageByGeneration(`gen-${randomUUID()}`)).toBeNull();
      });
    });
  });
}
