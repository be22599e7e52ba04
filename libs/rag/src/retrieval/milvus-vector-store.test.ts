import { describe, expect, it } from 'vitest';
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
