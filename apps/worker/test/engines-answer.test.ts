import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ChatMessage, Page } from '@ragstream/protocol';
import { HttpClient, REPO_ROOT, TestCluster } from '@ragstream/testing';
import { ConsistencyLevelEnum, MilvusClient } from '@zilliz/milvus2-sdk-node';
import { MongoClient, ObjectId } from 'mongodb';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOrganisation, waitForDocument } from './knowledge-helpers.ts';

const mongodbUrl = process.env.MONGODB_URL;
const milvusAddress = process.env.MILVUS_ADDRESS;
const missing = [mongodbUrl ? undefined : 'MONGODB_URL', milvusAddress ? undefined : 'MILVUS_ADDRESS'].filter(Boolean);
if (missing.length > 0) {
  console.warn(`engines-answer.test.ts SKIPPED: ${missing.join(' and ')} not set (npm run test:engines starts the servers and sets them)`);
}

/** The collection MilvusVectorStore uses when none is configured, as the worker's is not. */
const MILVUS_COLLECTION = 'ragstream_chunks';

const POLICY = `# Shipping

Standard shipping takes 3 to 5 working days. Express shipping costs 12 euros and arrives the next day.

# Returns

Customers can return any product within 30 days of delivery for a full refund.`;

/** Runs the seed's WebSocket client example to its end; rejects after `timeoutMs`. */
function runWebSocketExample(
  baseUrl: string,
  chatId: string,
  message: string,
  timeoutMs = 60_000,
): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['examples/websocket-client.mjs', baseUrl, chatId], {
    cwd: REPO_ROOT,
    env: { ...process.env, RAGSTREAM_MESSAGE: message },
  });
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    out += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`examples/websocket-client.mjs did not finish in ${timeoutMs} ms:\n${out}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
  });
}

describe.skipIf(missing.length > 0)('a document answer with MONGODB_URL and MILVUS_ADDRESS (real servers)', () => {
  // A database of its own, so that the collections read below hold this test's data only.
  const dbName = `ragstream_e2e_${randomUUID().replaceAll('-', '')}`;
  const url = new URL(mongodbUrl ?? 'mongodb://unset');
  url.pathname = `/${dbName}`;
  let cluster: TestCluster;
  let http: HttpClient;
  let mongo: MongoClient;
  let milvus: MilvusClient;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 1,
      workers: 1,
      env: { MONGODB_URL: url.href, MILVUS_ADDRESS: milvusAddress ?? '' },
      readyTimeoutMs: 60_000,
    });
    http = new HttpClient(cluster.api());
    mongo = new MongoClient(url.href);
    milvus = new MilvusClient({ address: milvusAddress ?? '', logLevel: 'info' });
    await Promise.all([mongo.connect(), milvus.connectPromise]);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
    await mongo?.db(dbName).dropDatabase();
    await Promise.all([mongo?.close(), milvus?.closeConnection()]);
  });

  it("answers the seed's WebSocket client from a document whose vectors are in Milvus, and stores the chat in chats and chat_messages", async () => {
    const organisationId = await createOrganisation(http, { name: `Engines ${randomUUID().slice(0, 8)}` });
    const upload = await http.post<{ id: string; revision: number }>(`/organisations/${organisationId}/documents`, {
      title: 'Shipping policy',
      format: 'markdown',
      content: POLICY,
    });
    expect(upload.status).toBe(202);
    // The first write creates, indexes and loads the Milvus collection: half a minute on a busy 2-core machine.
    const document = await waitForDocument(http, organisationId, upload.body.id, upload.body.revision, 120_000);
    expect(document.status).toBe('ready');
    expect(document.chunkCount).toBeGreaterThan(0);

    // The document's vectors are in Milvus, one per chunk, and the embedded index was never opened.
    const rows = await milvus.query({
      collection_name: MILVUS_COLLECTION,
      filter: `organisation_id == ${JSON.stringify(organisationId)} && document_id == ${JSON.stringify(document.id)}`,
      output_fields: ['chunk_id'],
      consistency_level: ConsistencyLevelEnum.Strong,
    });
    expect(rows.data).toHaveLength(document.chunkCount);
    expect(existsSync(join(cluster.dataDir, 'vectors'))).toBe(false);

    const { body: chat } = await http.post<{ id: string }>('/chat/', { userId: '123', organisationId });
    const run = await runWebSocketExample(cluster.api(), chat.id, 'How much does express shipping cost?');
    expect(run.code, run.out).toBe(0);
    expect(run.out).toMatch(/Answer \(complete\): .*12 euros/);

    const { body: messages } = await http.get<Page<ChatMessage>>(`/chat/${chat.id}/messages`);
    const bot = messages.items.find((message) => message.role === 'bot');
    expect(bot).toMatchObject({ status: 'complete', grounded: true });
    const chunkIds = new Set(rows.data.map((row) => String(row['chunk_id'])));
    const cited = bot?.sources?.filter((source) => source.cited) ?? [];
    expect(cited.length).toBeGreaterThan(0);
    for (const source of cited) {
      expect(source.documentId).toBe(document.id);
      expect(chunkIds.has(source.chunkId)).toBe(true);
    }

    // The seed's collection names, read through the driver.
    const db = mongo.db(dbName);
    expect(await db.collection('chats').countDocuments({ _id: new ObjectId(chat.id), userId: '123' })).toBe(1);
    expect(await db.collection('chat_messages').countDocuments({ chatId: new ObjectId(chat.id) })).toBe(2);
  }, 240_000);
});
