import { randomUUID } from 'node:crypto';
import { ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import { describeChatStoreContract } from './contract-suite.ts';
import { DEFAULT_ORGANISATION_ID } from './knowledge-store.ts';
import { MongoChatStore } from './mongo-chat-store.ts';

const url = process.env.MONGODB_URL;

if (!url) {
  console.warn('MongoDB contract suite skipped: MONGODB_URL is not set (npm run test:engines sets it)');
}

describe('MongoChatStore database name', () => {
  // The client connects lazily, so no server is needed here.
  it.each([
    ['mongodb://localhost:27017', 'ragstream'],
    ['mongodb://localhost:27017/', 'ragstream'],
    ['mongodb://localhost:27017/chatdb', 'chatdb'],
    ['mongodb://user:pw@a:27017,b:27018/chatdb?replicaSet=rs0', 'chatdb'],
    ['mongodb+srv://cluster.example.net/other?retryWrites=true', 'other'],
  ])('%s uses database %s', async (mongoUrl, dbName) => {
    const store = new MongoChatStore({ url: mongoUrl });
    expect(store.dbName).toBe(dbName);
    await store.close();
  });

  it('prefers an explicit dbName', async () => {
    const store = new MongoChatStore({ url: 'mongodb://localhost/chatdb', dbName: 'explicit' });
    expect(store.dbName).toBe('explicit');
    await store.close();
  });
});

describe.skipIf(!url)('MongoChatStore against MONGODB_URL', () => {
  const dbName = `ragstream_test_${randomUUID().replaceAll('-', '')}`;

  describeChatStoreContract('MongoChatStore', async () => {
    const store = new MongoChatStore({ url: url ?? '', dbName });
    await store.init();
    return store;
  });

  it('reads a chat stored before chats had an organisation as one of the default organisation', async () => {
    const store = new MongoChatStore({ url: url ?? '', dbName });
    const client = new MongoClient(url ?? '');
    try {
      await store.init();
      const _id = new ObjectId();
      const createdAt = new Date(1_000);
      await client
        .db(dbName)
        .collection('chats')
        .insertOne({ _id, userId: 'old-user', title: 'from before', createdAt, updatedAt: createdAt });
      expect(await store.getChat(_id.toHexString())).toStrictEqual({
        id: _id.toHexString(),
        userId: 'old-user',
        organisationId: DEFAULT_ORGANISATION_ID,
        title: 'from before',
        createdAt: createdAt.toISOString(),
        updatedAt: createdAt.toISOString(),
      });
    } finally {
      await Promise.all([store.close(), client.close()]);
    }
  });

  afterAll(async () => {
    const client = new MongoClient(url ?? '');
    try {
      await client.db(dbName).dropDatabase();
    } finally {
      await client.close();
    }
  });
});
