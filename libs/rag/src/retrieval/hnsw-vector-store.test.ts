import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ExactVectorStore } from './exact-vector-store.ts';
import { HnswVectorStore } from './hnsw-vector-store.ts';
import type { VectorRecord } from './vector-store.ts';
import { describeVectorStoreContract } from './vector-store-contract.ts';

describeVectorStoreContract('HnswVectorStore', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'hnsw-contract-'));
  return {
    store: new HnswVectorStore({ dataDir, dimensions: 8 }),
    dimensions: 8,
    cleanup: () => rm(dataDir, { recursive: true, force: true }),
  };
});

/** Deterministic PRNG (mulberry32) so the data set is the same on every run. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gaussian(next: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - next())) * Math.cos(2 * Math.PI * next());
}

/** `count` vectors around `clusters` random centres, like embeddings of texts on a few topics. */
function clusteredVectors(count: number, dimensions: number, clusters: number, seed: number): Float32Array[] {
  const next = random(seed);
  const centres = Array.from({ length: clusters }, () => Float32Array.from({ length: dimensions }, () => gaussian(next)));
  return Array.from({ length: count }, (_, i) => {
    const centre = centres[i % clusters] as Float32Array;
    return centre.map((value) => value + 0.6 * gaussian(next));
  });
}

function record(org: string, i: number, vector: Float32Array, documentId = `doc-${Math.floor(i / 10)}`): VectorRecord {
  return { chunkId: `chunk-${i}`, documentId, organisationId: org, vector };
}

describe('HnswVectorStore', () => {
  let dataDir: string;
  const stores: HnswVectorStore[] = [];

  function open(options: Partial<ConstructorParameters<typeof HnswVectorStore>[0]> = {}): HnswVectorStore {
    const store = new HnswVectorStore({ dataDir, dimensions: 16, ...options });
    stores.push(store);
    return store;
  }

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'hnsw-store-'));
  });

  afterEach(async () => {
    await Promise.all(stores.splice(0).map((store) => store.close()));
    await rm(dataDir, { recursive: true, force: true });
  });

  it('finds at least 95% of the exact top 10 on 5,000 clustered vectors (recall@10)', async () => {
    const dimensions = 128;
    const vectors = clusteredVectors(5_000, dimensions, 40, 7);
    const queries = clusteredVectors(200, dimensions, 40, 99);
    const ann = open({ dimensions });
    const exact = new ExactVectorStore(dimensions);
    const records = vectors.map((vector, i) => record('org', i, vector));
    // Several batches, so that the index also grows past its initial capacity.
    for (let from = 0; from < records.length; from += 1_000) await ann.upsert(records.slice(from, from + 1_000));
    await exact.upsert(records);

    let found = 0;
    for (const query of queries) {
      const truth = new Set((await exact.search('org', query, 10)).map((hit) => hit.chunkId));
      for (const hit of await ann.search('org', query, 10)) if (truth.has(hit.chunkId)) found += 1;
    }
    const recall = found / (queries.length * 10);
    expect(recall).toBeGreaterThanOrEqual(0.95);
  });

  it('persists: a new instance on the same directory finds the data', async () => {
    const vectors = clusteredVectors(50, 16, 5, 1);
    await open().upsert(vectors.map((vector, i) => record('org', i, vector)));
    const hits = await open().search('org', vectors[7] as Float32Array, 1);
    expect(hits[0]?.chunkId).toBe('chunk-7');
  });

  it("loads another process's newer version before searching, and prunes old versions", async () => {
    const writer = open();
    const reader = open();
    const vectors = clusteredVectors(40, 16, 4, 2);
    await writer.upsert(vectors.slice(0, 20).map((vector, i) => record('org', i, vector)));
    expect((await reader.search('org', vectors[25] as Float32Array, 1))[0]?.chunkId).not.toBe('chunk-25');
    for (let i = 20; i < 40; i += 1) await writer.upsert([record('org', i, vectors[i] as Float32Array)]);
    expect((await reader.search('org', vectors[25] as Float32Array, 1))[0]?.chunkId).toBe('chunk-25');

    const orgDir = join(dataDir, 'org');
    expect((await readFile(join(orgDir, 'vectors.current'), 'utf8')).trim()).toBe('21');
    const files = (await readdir(orgDir)).sort();
    expect(files).toEqual(['vectors.current', ...[19, 20, 21].flatMap((v) => [`vectors.v${v}.hnsw`, `vectors.v${v}.json`])].sort());
  });

  it('serialises writers of different processes on one organisation: no write is lost', async () => {
    const a = open();
    const b = open();
    const vectors = clusteredVectors(60, 16, 6, 3);
    await Promise.all(vectors.map((vector, i) => (i % 2 === 0 ? a : b).upsert([record('org', i, vector, `doc-${i}`)])));
    const hits = await open().search('org', vectors[0] as Float32Array, 100);
    expect(hits).toHaveLength(60);
  });

  it('reuses the slots of deleted chunks instead of growing without bound', async () => {
    const store = open({ initialCapacity: 16 });
    const vectors = clusteredVectors(16, 16, 2, 4);
    for (let round = 0; round < 5; round += 1) {
      await store.deleteDocument('org', 'doc');
      await store.upsert(vectors.map((vector, i) => record('org', i, vector, 'doc')));
    }
    expect(await store.search('org', vectors[3] as Float32Array, 100)).toHaveLength(16);
    const version = (await readFile(join(dataDir, 'org', 'vectors.current'), 'utf8')).trim();
    const index = await readFile(join(dataDir, 'org', `vectors.v${version}.hnsw`));
    const reopened = new HnswVectorStore({ dataDir, dimensions: 16 });
    stores.push(reopened);
    expect((await reopened.search('org', vectors[3] as Float32Array, 1))[0]?.chunkId).toBe('chunk-3');
    // 16 slots of 16 floats: the file would be several times larger had it grown each round.
    expect(index.byteLength).toBeLessThan(16 * 1024);
  });

  it('refuses an index built with other dimensions', async () => {
    await open().upsert([record('org', 0, clusteredVectors(1, 16, 1, 5)[0] as Float32Array)]);
    await expect(open({ dimensions: 32 }).search('org', new Float32Array(32), 1)).rejects.toThrow(/VECTOR_DIMENSIONS/);
  });

  it('keeps organisation ids that are not file names inside the data directory', async () => {
    const store = open();
    const vector = clusteredVectors(1, 16, 1, 6)[0] as Float32Array;
    await store.upsert([record('../../etc/evil org', 0, vector)]);
    expect((await store.search('../../etc/evil org', vector, 1))[0]?.chunkId).toBe('chunk-0');
    const entries = await readdir(dataDir);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatch(/^~[0-9a-f]{40}$/);
  });

  it('stops before searching when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(open().search('org', new Float32Array(16), 1, controller.signal)).rejects.toThrow('stopped');
  });
});
