import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { ObjectId } from 'bson';
import { afterAll, describe, expect, it } from 'vitest';
import { describeChatStoreContract } from './contract-suite.ts';
import { DEFAULT_ORGANISATION_ID } from './knowledge-store.ts';
import { SqliteChatStore } from './sqlite-chat-store.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'ragstream-store-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function openStore(filename: string): Promise<SqliteChatStore> {
  const store = new SqliteChatStore({ filename });
  await store.init();
  return store;
}

// The nested path checks that the constructor creates missing directories.
describeChatStoreContract('SqliteChatStore', () => openStore(join(dir, 'contract', 'data', 'ragstream.sqlite')));

/**
 * Run in separate node processes: each initialises the store on a fresh file, waits for a
 * common start time, then saves the same generation, printing what it got back.
 */
const CHILD_SCRIPT = `
  const { SqliteChatStore } = await import(process.env.STORE_MODULE);
  const store = new SqliteChatStore({ filename: process.env.STORE_FILE });
  await store.init();
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.START_AT) - Date.now()));
  const saved = await store.saveBotMessage({
    chatId: process.env.CHAT_ID,
    generationId: process.env.GENERATION_ID,
    text: 'from ' + process.pid,
    status: 'complete',
    sources: [],
    createdAt: new Date(),
  });
  await store.close();
  process.stdout.write(JSON.stringify({ id: saved.value.id, created: saved.created }));
`;

describe('SqliteChatStore shared by several connections', () => {
  it('puts the file in WAL mode', async () => {
    const filename = join(dir, 'wal.sqlite');
    const store = await openStore(filename);
    await store.close();
    const db = new Database(filename, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    db.close();
  });

  it('adds the organisation column to a file made before chats had one', async () => {
    const filename = join(dir, 'before-organisations.sqlite');
    const old = new Database(filename);
    // The chats table as it was before organisations.
    old.exec(`
      CREATE TABLE chats (
        id TEXT PRIMARY KEY,
        user_id TEXT NOT NULL,
        title TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        updated_at INTEGER NOT NULL
      );
      CREATE INDEX chats_user_created ON chats (user_id, created_at, id);
    `);
    const oldId = new ObjectId().toHexString();
    old.prepare('INSERT INTO chats VALUES (?, ?, ?, ?, ?)').run(oldId, 'old-user', 'from before', 1_000, 2_000);
    old.close();

    const [a, b] = await Promise.all([openStore(filename), openStore(filename)]);
    try {
      const before = await a.getChat(oldId);
      expect(before).toStrictEqual({
        id: oldId,
        userId: 'old-user',
        organisationId: DEFAULT_ORGANISATION_ID,
        title: 'from before',
        createdAt: new Date(1_000).toISOString(),
        updatedAt: new Date(2_000).toISOString(),
      });
      const organisationId = new ObjectId().toHexString();
      const after = await b.createChat({ userId: 'old-user', title: 'after', organisationId });
      expect((await a.listChatsByUser('old-user', { limit: 10 })).items).toStrictEqual([before, after]);
      await a.init();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("lets two instances on one file see each other's writes and store one bot message per generation", async () => {
    const filename = join(dir, 'two-instances.sqlite');
    const [a, b] = await Promise.all([openStore(filename), openStore(filename)]);
    try {
      const chat = await a.createChat({ userId: 'shared-user', title: 'shared' });
      expect(await b.getChat(chat.id)).toStrictEqual(chat);

      const question = await b.createMessage({ chatId: chat.id, role: 'user', text: 'hi', clientMessageId: 'c1' });
      expect(await a.getMessage(chat.id, question.value.id)).toStrictEqual(question.value);
      const retried = await a.createMessage({ chatId: chat.id, role: 'user', text: 'hi', clientMessageId: 'c1' });
      expect(retried).toStrictEqual({ value: question.value, created: false });

      const input = {
        chatId: chat.id,
        generationId: 'gen-shared',
        text: 'answer',
        status: 'complete' as const,
        sources: [],
        createdAt: new Date(),
      };
      const results = await Promise.all([a.saveBotMessage(input), b.saveBotMessage(input), a.saveBotMessage(input)]);
      expect(results.filter((result) => result.created)).toHaveLength(1);
      expect(new Set(results.map((result) => result.value.id)).size).toBe(1);
      expect((await b.listMessages(chat.id, { limit: 10 })).items).toHaveLength(2);

      expect(await b.deleteChat(chat.id)).toBe(true);
      expect(await a.getChat(chat.id)).toBeNull();
      expect(await a.findBotMessageByGeneration('gen-shared')).toBeNull();
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('stores one bot message when processes initialise and save the same generation at once', async () => {
    const filename = join(dir, 'processes.sqlite');
    const chatId = new ObjectId().toHexString();
    const env = {
      ...process.env,
      STORE_MODULE: new URL('./sqlite-chat-store.ts', import.meta.url).href,
      STORE_FILE: filename,
      CHAT_ID: chatId,
      GENERATION_ID: 'gen-across-processes',
      START_AT: String(Date.now() + 2_000),
    };
    const children = Array.from({ length: 4 }, () =>
      run(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', CHILD_SCRIPT], { env }),
    );
    const results = (await Promise.all(children)).map(({ stdout }) => JSON.parse(stdout) as { id: string; created: boolean });

    expect(results.filter((result) => result.created)).toHaveLength(1);
    expect(new Set(results.map((result) => result.id)).size).toBe(1);
    const store = await openStore(filename);
    try {
      const stored = await store.listMessages(chatId, { limit: 10 });
      expect(stored.items.map((message) => message.id)).toEqual([results[0]?.id]);
    } finally {
      await store.close();
    }
  }, 30_000);
});
