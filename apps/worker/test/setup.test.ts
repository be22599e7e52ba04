import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '@ragstream/testing';
import Database from 'better-sqlite3';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';

const dataDir = mkdtempSync(join(tmpdir(), 'ragstream-setup-'));
const mongodbUrl = process.env.MONGODB_URL;
if (!mongodbUrl) console.warn('setup.test.ts: the MongoDB case is SKIPPED: MONGODB_URL is not set (npm run test:engines sets it)');

/** `npm run setup` on DATA_DIR, or on the MongoDB at `mongoUrl` when one is given. */
function runSetup(mongoUrl?: string): { status: number | null; output: string } {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir };
  // An inherited MONGODB_URL would send the setup to a server instead of DATA_DIR.
  delete env.MONGODB_URL;
  if (mongoUrl) env.MONGODB_URL = mongoUrl;
  const result = spawnSync('npm', ['run', '--silent', 'setup'], { cwd: REPO_ROOT, env, encoding: 'utf8' });
  return { status: result.status, output: `${result.stdout}${result.stderr}` };
}

describe('npm run setup (embedded SQLite)', () => {
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('creates every table and index, and a second run changes nothing', () => {
    const first = runSetup();
    expect(first.status, first.output).toBe(0);
    expect(first.output).toContain('stores set up');
    const second = runSetup();
    expect(second.status, second.output).toBe(0);

    const db = new Database(join(dataDir, 'ragstream.sqlite'), { readonly: true });
    try {
      const names = (type: string): string[] =>
        (db.prepare('SELECT name FROM sqlite_master WHERE type = ? ORDER BY name').all(type) as { name: string }[])
          .map((row) => row.name)
          .filter((name) => !name.startsWith('sqlite_'));
      expect(names('table')).toEqual(
        expect.arrayContaining(['chat_messages', 'chats', 'document_chunks', 'document_contents', 'documents', 'organisations']),
      );
      expect(names('index')).toEqual(
        expect.arrayContaining([
          'chats_user_created',
          'chat_messages_chat_created',
          'chat_messages_client_message',
          'chat_messages_generation',
          'documents_organisation_created',
          'document_chunks_document_index',
        ]),
      );
      // A set-up store holds no data: setup only creates structure.
      expect(db.prepare('SELECT count(*) AS n FROM chats').get()).toEqual({ n: 0 });
    } finally {
      db.close();
    }
  }, 120_000);

  it('fails with the variable at fault when the configuration is invalid', () => {
    const result = spawnSync('npm', ['run', '--silent', 'setup'], {
      cwd: REPO_ROOT,
      env: { ...process.env, DATA_DIR: dataDir, MONGODB_URL: 'not a url' },
      encoding: 'utf8',
    });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('MONGODB_URL');
  }, 60_000);
});

describe.skipIf(!mongodbUrl)('npm run setup (MONGODB_URL)', () => {
  const dbName = `ragstream_setup_${randomUUID().replaceAll('-', '')}`;
  const url = new URL(mongodbUrl ?? 'mongodb://unset');
  url.pathname = `/${dbName}`;
  const client = new MongoClient(url.href);

  afterAll(async () => {
    await client.db(dbName).dropDatabase();
    await client.close();
  });

  it("creates the indexes of the seed's chats and chat_messages, and a second run changes nothing", async () => {
    for (const run of [runSetup(url.href), runSetup(url.href)]) {
      expect(run.status, run.output).toBe(0);
      expect(run.output).toContain('"store":"mongodb"');
    }
    const db = client.db(dbName);
    const indexes = async (collection: string) =>
      Object.fromEntries((await db.collection(collection).listIndexes().toArray()).map((index) => [index.name, index]));

    const chats = await indexes('chats');
    expect(chats['user_created']?.key).toEqual({ userId: 1, createdAt: 1, _id: 1 });
    const messages = await indexes('chat_messages');
    expect(messages['chat_created']?.key).toEqual({ chatId: 1, createdAt: 1, _id: 1 });
    expect(messages['chat_client_message']).toMatchObject({ key: { chatId: 1, clientMessageId: 1 }, unique: true });
    expect(messages['generation']).toMatchObject({ key: { generationId: 1 }, unique: true });
    expect(Object.keys(await indexes('documents'))).toEqual(expect.arrayContaining(['organisation_created', 'organisation_status']));
    expect(Object.keys(await indexes('document_chunks'))).toEqual(expect.arrayContaining(['organisation_document_index', 'chunk_set']));
    // Setup creates structure only.
    expect(await db.collection('chats').countDocuments()).toBe(0);
  }, 120_000);
});
