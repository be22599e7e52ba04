import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HnswVectorStore } from './hnsw-vector-store.ts';
import { KeywordIndexStore } from './keyword-index-store.ts';

const WRITER = fileURLToPath(new URL('../testing/index-writer-process.ts', import.meta.url));

function runWriter(dataDir: string, org: string, versions: number): Promise<number | null> {
  const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir, org, String(versions)], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', resolve);
  });
}

describe('indexes shared by worker processes', () => {
  let dataDir: string;

  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'cross-process-'));
  });

  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("reads another process's versions while it publishes them, never a partial one", async () => {
    const versions = 12;
    const vectors = new HnswVectorStore({ dataDir: join(dataDir, 'vectors'), dimensions: 8 });
    const keywords = new KeywordIndexStore({ dataDir: join(dataDir, 'bm25') });
    let done = false;
    const writer = runWriter(dataDir, 'org', versions).finally(() => {
      done = true;
    });

    const seenVectors: number[] = [];
    const seenKeywords: number[] = [];
    while (!done) {
      const hits = await vectors.search('org', new Float32Array(8).fill(1), 100);
      const ids = hits.map((hit) => Number(hit.chunkId.split('-')[1])).sort((a, b) => a - b);
      // Version n holds exactly chunks 1..n.
      expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
      seenVectors.push(ids.length);

      const keywordHits = await keywords.search('org', 'common words item', 5);
      const keywordVersions = new Set(keywordHits.map((hit) => hit.chunkId.split('-')[0]));
      expect(keywordVersions.size).toBeLessThanOrEqual(1);
      seenKeywords.push(Number([...keywordVersions][0]?.slice(1) ?? 0));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    expect(await writer).toBe(0);

    // The reader saw the versions go by, in order.
    expect(new Set(seenVectors).size).toBeGreaterThan(2);
    expect(seenVectors).toEqual([...seenVectors].sort((a, b) => a - b));
    expect(seenKeywords).toEqual([...seenKeywords].sort((a, b) => a - b));
    expect((await vectors.search('org', new Float32Array(8).fill(1), 100)).length).toBe(versions);
    expect(await keywords.version('org')).toBe(versions);
    await vectors.close();
    await keywords.close();
  });

  it('lets two processes write one organisation without losing either change', async () => {
    const [a, b] = await Promise.all([runWriter(join(dataDir, 'a'), 'org', 6), runWriter(join(dataDir, 'a'), 'org', 6)]);
    expect([a, b]).toEqual([0, 0]);
    const vectors = new HnswVectorStore({ dataDir: join(dataDir, 'a', 'vectors'), dimensions: 8 });
    // Both wrote chunk-1..6 (upserts of the same ids): six chunks, twelve published versions.
    expect(await vectors.search('org', new Float32Array(8).fill(1), 100)).toHaveLength(6);
    expect(await new KeywordIndexStore({ dataDir: join(dataDir, 'a', 'bm25') }).version('org')).toBe(12);
    await vectors.close();
  });
});
