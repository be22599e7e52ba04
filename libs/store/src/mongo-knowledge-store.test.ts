import { randomUUID } from 'node:crypto';
import { ObjectId } from 'bson';
import { MongoClient } from 'mongodb';
import { afterAll, describe, expect, it } from 'vitest';
import type { UnsupportedCases } from './contract-skips.ts';
import { describeKnowledgeStoreContract } from './knowledge-contract-suite.ts';
import { MongoKnowledgeStore } from './mongo-knowledge-store.ts';
import { isFerretDb } from './mongo-queries.ts';

const url = process.env.MONGODB_URL;

/** What the server at MONGODB_URL cannot do that the contract checks (the engine tests run FerretDB 1.24). */
async function unsupportedCases(serverUrl: string): Promise<UnsupportedCases> {
  const client = new MongoClient(serverUrl);
  try {
    if (!(await isFerretDb(client))) return {};
  } finally {
    await client.close();
  }
  return {
    'gives concurrent uploads distinct revisions and keeps the content of the last':
      "FerretDB 1.24's findAndModify is not atomic: concurrent $inc updates return the same revision (MongoDB's is atomic)",
    'counts every one of concurrent changes':
      "FerretDB 1.24's updateOne $inc is not atomic either: concurrent bumps of an organisation's index version can count once (MongoDB's is atomic)",
  };
}

const unsupported = url ? await unsupportedCases(url) : {};

if (!url) {
  console.warn('MongoDB knowledge contract suite skipped: MONGODB_URL is not set (npm run test:engines sets it)');
}

describe('MongoKnowledgeStore database name', () => {
  // The client connects lazily, so no server is needed here.
  it.each([
    ['mongodb://localhost:27017', 'ragstream'],
    ['mongodb://localhost:27017/knowledge', 'knowledge'],
  ])('%s uses database %s', async (mongoUrl, dbName) => {
    const store = new MongoKnowledgeStore({ url: mongoUrl });
    expect(store.dbName).toBe(dbName);
    await store.close();
  });

  it('prefers an explicit dbName', async () => {
    const store = new MongoKnowledgeStore({ url: 'mongodb://localhost/knowledge', dbName: 'explicit' });
    expect(store.dbName).toBe('explicit');
    await store.close();
  });
});

describe.skipIf(!url)('MongoKnowledgeStore against MONGODB_URL', () => {
  const dbName = `ragstream_test_${randomUUID().replaceAll('-', '')}`;
  const open = async () => {
    const store = new MongoKnowledgeStore({ url: url ?? '', dbName });
    await store.init();
    return store;
  };

  describeKnowledgeStoreContract('MongoKnowledgeStore', open, unsupported);

  it('creates one default organisation when separate clients race', async () => {
    const racingDb = `${dbName}_race`;
    const stores = await Promise.all(
      [1, 2, 3, 4].map(async () => {
        const store = new MongoKnowledgeStore({ url: url ?? '', dbName: racingDb });
        await store.init();
        return store;
      }),
    );
    const client = new MongoClient(url ?? '');
    try {
      const results = await Promise.all(stores.map((store) => store.ensureDefaultOrganisation()));
      for (const result of results) expect(result).toStrictEqual(results[0]);
      expect(await client.db(racingDb).collection('organisations').countDocuments()).toBe(1);
    } finally {
      await Promise.all(stores.map((store) => store.close()));
      await client.db(racingDb).dropDatabase();
      await client.close();
    }
  });

  it('leaves no chunks or contents behind a deleted document', async () => {
    const store = await open();
    const client = new MongoClient(url ?? '');
    try {
      const organisation = await store.createOrganisation({ name: 'Leftovers' });
      const document = await store.createDocument({
        organisationId: organisation.id,
        title: 'Doc',
        format: 'text',
        content: 'one',
      });
      await store.replaceChunks(document.id, 1, [{ index: 0, text: 'one', language: 'en' }]);
      await store.replaceChunks(document.id, 1, [{ index: 0, text: 'again', language: 'en' }]);
      await store.replaceDocumentContent(organisation.id, document.id, { title: 'Doc', format: 'text', content: 'two' });
      const db = client.db(dbName);
      const documentId = new ObjectId(document.id);
      expect(await db.collection('document_chunks').countDocuments({ documentId })).toBe(1);
      expect(await db.collection('document_contents').countDocuments({ documentId })).toBe(1);

      expect(await store.deleteDocument(organisation.id, document.id)).toBe(true);
      expect(await db.collection('document_chunks').countDocuments({ documentId })).toBe(0);
      expect(await db.collection('document_contents').countDocuments({ documentId })).toBe(0);
    } finally {
      await store.close();
      await client.close();
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
