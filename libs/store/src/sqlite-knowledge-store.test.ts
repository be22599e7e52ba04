import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { describeKnowledgeStoreContract } from './knowledge-contract-suite.ts';
import type { Organisation } from './knowledge-store.ts';
import { DEFAULT_ORGANISATION_ID } from './knowledge-store.ts';
import { SqliteChatStore } from './sqlite-chat-store.ts';
import { SqliteKnowledgeStore } from './sqlite-knowledge-store.ts';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'ragstream-knowledge-'));

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

async function openStore(filename: string): Promise<SqliteKnowledgeStore> {
  const store = new SqliteKnowledgeStore({ filename });
  await store.init();
  return store;
}

// The nested path checks that the constructor creates missing directories.
describeKnowledgeStoreContract('SqliteKnowledgeStore', () => openStore(join(dir, 'contract', 'data', 'ragstream.sqlite')));

/**
 * Run in separate node processes: each initialises the store on a file that has no default
 * organisation yet, waits for a common start time, then ensures the default organisation and
 * writes chunks for the same document revision, printing what it got back.
 */
const CHILD_SCRIPT = `
  const { SqliteKnowledgeStore } = await import(process.env.STORE_MODULE);
  const store = new SqliteKnowledgeStore({ filename: process.env.STORE_FILE });
  await store.init();
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.START_AT) - Date.now()));
  const organisation = await store.ensureDefaultOrganisation();
  const chunks = await store.replaceChunks(process.env.DOCUMENT_ID, 1, [0, 1, 2].map((index) => ({
    index,
    text: process.pid + ' ' + index,
    language: 'en',
  })));
  await store.close();
  process.stdout.write(JSON.stringify({ organisation, chunkIds: chunks.map((chunk) => chunk.id) }));
`;

describe('SqliteKnowledgeStore shared by several connections', () => {
  it('puts the file in WAL mode and shares it with the chat store', async () => {
    const filename = join(dir, 'shared.sqlite');
    const knowledge = await openStore(filename);
    const chats = new SqliteChatStore({ filename });
    await chats.init();
    try {
      const organisation = await knowledge.createOrganisation({ name: 'Shared' });
      const chat = await chats.createChat({ userId: 'u', title: 't', organisationId: organisation.id });
      expect(await chats.getChat(chat.id)).toMatchObject({ organisationId: organisation.id });
      expect(await knowledge.getOrganisation(organisation.id)).toStrictEqual(organisation);
    } finally {
      await Promise.all([knowledge.close(), chats.close()]);
    }
    const db = new Database(filename, { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table'").all();
    expect(tables.map((table) => table.name).sort()).toEqual([
      'chat_messages',
      'chats',
      'document_chunks',
      'document_contents',
      'documents',
      'index_versions',
      'organisations',
    ]);
    db.close();
  });

  it('adds the chunk set and vector columns to a file written before them, keeping its chunks indexed', async () => {
    const filename = join(dir, 'old-schema.sqlite');
    const store = await openStore(filename);
    const organisation = await store.createOrganisation({ name: 'Old' });
    const document = await store.createDocument({ organisationId: organisation.id, title: 'Old', format: 'text', content: 'x' });
    const chunks = await store.replaceChunks(document.id, 1, [{ index: 0, text: 'kept', language: 'en' }]);
    await store.close();
    const db = new Database(filename);
    db.exec('ALTER TABLE documents DROP COLUMN chunk_set; ALTER TABLE document_chunks DROP COLUMN vector');
    db.close();

    const reopened = await openStore(filename);
    try {
      expect((await reopened.listIndexedDocuments(organisation.id)).map((entry) => entry.documentId)).toEqual([document.id]);
      expect(await reopened.getIndexChunks(organisation.id, [document.id])).toStrictEqual([
        { chunkId: chunks?.[0]?.id, documentId: document.id, text: 'kept', title: 'Old' },
      ]);
    } finally {
      await reopened.close();
    }
  });

  it('uses an index for every query', async () => {
    const filename = join(dir, 'plans.sqlite');
    const store = await openStore(filename);
    await store.close();
    const db = new Database(filename, { readonly: true });
    const plan = (sql: string, ...params: unknown[]) =>
      db
        .prepare<unknown[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`)
        .all(...params)
        .map((row) => row.detail)
        .join('\n');
    const id = '0123456789abcdef01234567';
    const queries: [string, unknown[]][] = [
      ['SELECT * FROM organisations WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?', [0, '', 10]],
      ['SELECT * FROM documents WHERE organisation_id = ? AND (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?', [id, 0, '', 10]],
      [
        `SELECT * FROM document_chunks
         WHERE document_id IN (SELECT id FROM documents WHERE organisation_id = ? AND status = 'ready')
         ORDER BY document_id, chunk_index`,
        [id],
      ],
      ['DELETE FROM document_chunks WHERE document_id = ?', [id]],
      ['SELECT * FROM document_chunks WHERE id IN (SELECT value FROM json_each(?))', ['[]']],
    ];
    try {
      for (const [sql, params] of queries) {
        const detail = plan(sql, ...params);
        expect(detail, sql).not.toMatch(/\bSCAN (organisations|documents|document_chunks)\b(?! USING)/);
        expect(detail, sql).not.toMatch(/USE TEMP B-TREE/);
      }
    } finally {
      db.close();
    }
  });

  it("lets two instances on one file see each other's writes and respect each other's revisions", async () => {
    const filename = join(dir, 'two-instances.sqlite');
    const [a, b] = await Promise.all([openStore(filename), openStore(filename)]);
    try {
      const organisation = await a.createOrganisation({ name: 'Two' });
      const document = await a.createDocument({
        organisationId: organisation.id,
        title: 'Doc',
        format: 'text',
        content: 'one',
      });
      expect(await b.getDocument(organisation.id, document.id)).toStrictEqual(document);
      await b.replaceDocumentContent(organisation.id, document.id, { title: 'Doc', format: 'text', content: 'two' });
      expect(await a.replaceChunks(document.id, 1, [{ index: 0, text: 'one', language: 'en' }])).toBeNull();
      expect(await a.getDocumentContent(document.id)).toStrictEqual({ content: 'two', revision: 2 });
      const chunks = await a.replaceChunks(document.id, 2, [{ index: 0, text: 'two', language: 'en' }]);
      expect(await a.updateDocumentStatus(document.id, 2, { status: 'ready' })).toBe(true);
      expect(await b.listOrganisationChunks(organisation.id)).toStrictEqual(chunks);
      expect(await b.deleteDocument(organisation.id, document.id)).toBe(true);
      expect(await a.listOrganisationChunks(organisation.id)).toEqual([]);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('creates one default organisation and keeps one set of chunks when processes race', async () => {
    const filename = join(dir, 'processes.sqlite');
    const setup = await openStore(filename);
    const organisation = await setup.createOrganisation({ name: 'Racing' });
    const document = await setup.createDocument({
      organisationId: organisation.id,
      title: 'Doc',
      format: 'text',
      content: 'text',
    });
    await setup.close();

    const env = {
      ...process.env,
      STORE_MODULE: new URL('./sqlite-knowledge-store.ts', import.meta.url).href,
      STORE_FILE: filename,
      DOCUMENT_ID: document.id,
      START_AT: String(Date.now() + 2_000),
    };
    const children = Array.from({ length: 4 }, () =>
      run(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', CHILD_SCRIPT], { env }),
    );
    const results = (await Promise.all(children)).map(
      ({ stdout }) => JSON.parse(stdout) as { organisation: Organisation; chunkIds: string[] },
    );

    const [first] = results;
    expect(first?.organisation).toMatchObject({ id: DEFAULT_ORGANISATION_ID, name: 'Default' });
    for (const result of results) expect(result.organisation).toStrictEqual(first?.organisation);

    const store = await openStore(filename);
    try {
      expect((await store.listOrganisations({ limit: 10 })).items.map((item) => item.id).sort()).toEqual(
        [DEFAULT_ORGANISATION_ID, organisation.id].sort(),
      );
      const remaining = await store.getChunks(results.flatMap((result) => result.chunkIds));
      expect(remaining.map((chunk) => chunk.index)).toEqual([0, 1, 2]);
      expect(new Set(remaining.map((chunk) => chunk.text.split(' ')[0])).size).toBe(1);
      expect(await store.getDocument(organisation.id, document.id)).toMatchObject({ chunkCount: 3 });
    } finally {
      await store.close();
    }
  }, 30_000);
});
