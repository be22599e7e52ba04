import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { KeywordChunk } from './keyword-index.ts';
import { KeywordIndexStore } from './keyword-index-store.ts';

/** Version `v` of a corpus: every chunk mentions "harbour", and its ids say which version it belongs to. */
function corpus(v: number, size: number): KeywordChunk[] {
  return Array.from({ length: size }, (_, i) => ({
    chunkId: `v${v}-c${i}`,
    documentId: `v${v}-d${i % 50}`,
    text: `The harbour ledger entry ${i} of edition ${v} lists cargo number ${i * 7} and the ship lantern${i}.`,
  }));
}

describe('KeywordIndexStore', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'bm25-store-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('publishes versions that another instance (process) picks up on its next query', async () => {
    const writer = new KeywordIndexStore({ dataDir });
    const reader = new KeywordIndexStore({ dataDir });
    expect(await reader.search('org', 'harbour', 5)).toEqual([]);
    expect(await writer.rebuild('org', () => corpus(1, 5))).toBe(1);
    expect((await reader.search('org', 'harbour', 5))[0]?.chunkId).toMatch(/^v1-/);
    expect(await writer.rebuild('org', async () => corpus(2, 5))).toBe(2);
    expect((await reader.search('org', 'harbour', 5))[0]?.chunkId).toMatch(/^v2-/);
    expect(await reader.search('other-org', 'harbour', 5)).toEqual([]);
  });

  it('serialises concurrent rebuilds and keeps only recent versions on disk', async () => {
    const a = new KeywordIndexStore({ dataDir });
    const b = new KeywordIndexStore({ dataDir });
    const versions = await Promise.all(Array.from({ length: 8 }, (_, i) => (i % 2 ? a : b).rebuild('org', () => corpus(i, 4))));
    expect(versions.sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect((await readdir(join(dataDir, 'org'))).sort()).toEqual(['bm25.current', 'bm25.v6.json', 'bm25.v7.json', 'bm25.v8.json']);
  });

  it('never fails a query or shows a half-built index while the index is rebuilt', async () => {
    const writer = new KeywordIndexStore({ dataDir });
    const readers = [new KeywordIndexStore({ dataDir }), new KeywordIndexStore({ dataDir }), writer];
    const size = 1_500;
    await writer.rebuild('org', () => corpus(0, size));

    let rebuilding = true;
    const rebuilds = (async () => {
      for (let v = 1; v <= 6; v += 1) await writer.rebuild('org', () => corpus(v, size));
      rebuilding = false;
    })();

    const seen = readers.map(() => [] as number[]);
    await Promise.all(
      readers.map(async (reader, r) => {
        while (rebuilding) {
          const hits = await reader.search('org', 'harbour ledger lantern7 cargo', 10);
          expect(hits).toHaveLength(10);
          const versions = new Set(hits.map((hit) => Number(/^v(\d+)-/.exec(hit.chunkId)?.[1])));
          // One version per answer: the old index or the new one, never a mix.
          expect(versions.size).toBe(1);
          (seen[r] as number[]).push([...versions][0] as number);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }),
    );
    await rebuilds;

    for (const versions of seen) {
      expect(versions.length).toBeGreaterThan(0);
      // Each reader moves forward only.
      expect(versions).toEqual([...versions].sort((x, y) => x - y));
    }
    expect(new Set(seen.flat()).size).toBeGreaterThan(1);
    expect((await readers[0]?.search('org', 'harbour', 1))?.[0]?.chunkId).toMatch(/^v6-/);
  });

  it('leaves the published index in place when a rebuild fails', async () => {
    const store = new KeywordIndexStore({ dataDir });
    await store.rebuild('org', () => corpus(1, 3));
    await expect(
      store.rebuild('org', () => {
        throw new Error('store unavailable');
      }),
    ).rejects.toThrow('store unavailable');
    expect(await store.version('org')).toBe(1);
    expect((await store.search('org', 'harbour', 1))[0]?.chunkId).toMatch(/^v1-/);
  });
});
