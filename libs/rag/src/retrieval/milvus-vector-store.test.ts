import { MilvusClient } from '@zilliz/milvus2-sdk-node';
import { afterAll, describe, expect, it } from 'vitest';
import { MilvusVectorStore } from './milvus-vector-store.ts';
import { describeVectorStoreContract } from './vector-store-contract.ts';

const address = process.env['MILVUS_ADDRESS'];

if (address) {
  // A collection per run, so that a changed schema or dimension never meets an old one.
  const collection = `ragstream_test_${Date.now()}`;
  describeVectorStoreContract('MilvusVectorStore', async () => ({
    store: new MilvusVectorStore({ address, dimensions: 8, collection }),
    dimensions: 8,
  }));
  describe('MilvusVectorStore on a collection made for another embedder', () => {
    it('refuses it at the first call, naming the collection, both dimensions and MILVUS_COLLECTION', async () => {
      const first = new MilvusVectorStore({ address, dimensions: 8, collection });
      await first.search('org', new Float32Array(8).fill(1), 1);
      await first.close();
      const other = new MilvusVectorStore({ address, dimensions: 4, collection });
      const refusal = new RegExp(`${collection} holds vectors of 8 dimensions, but the embedder makes 4: set MILVUS_COLLECTION`);
      await expect(other.search('org', new Float32Array(4).fill(1), 1)).rejects.toThrow(refusal);
      await expect(other.upsert([{ chunkId: 'c', documentId: 'd', organisationId: 'org', vector: new Float32Array(4) }])).rejects.toThrow(
        refusal,
      );
      await other.close();
    });
  });
  // A server kept between runs (npm run engines) would otherwise hold every run's collection, loaded.
  afterAll(async () => {
    const client = new MilvusClient({ address, logLevel: 'info' });
    try {
      await client.connectPromise;
      await client.dropCollection({ collection_name: collection });
    } finally {
      await client.closeConnection();
    }
  });
} else {
  console.warn('MilvusVectorStore contract tests SKIPPED: MILVUS_ADDRESS is not set (npm run test:engines starts Milvus and sets it).');
}

describe('MilvusVectorStore without a server', () => {
  it('reports an unreachable server as the error of the call (no unhandled rejection)', async () => {
    // Port 1 on loopback refuses connections.
    const store = new MilvusVectorStore({ address: '127.0.0.1:1', dimensions: 4, timeoutMs: 2_000 });
    await expect(store.search('org', new Float32Array([1, 0, 0, 0]), 3)).rejects.toThrow(/UNAVAILABLE|ECONNREFUSED/);
    await store.close();
  });
});
