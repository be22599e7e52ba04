import { describe, expect, it, vi } from 'vitest';
import type { Embedder } from './embedder.ts';
import { HybridRetriever, LEXICAL_VECTOR_WEIGHT } from './hybrid-retriever.ts';
import type { KeywordChunk, KeywordHit, KeywordSearcher } from './keyword-index.ts';
import { OfflineHashingEmbedder } from './offline-hashing-embedder.ts';
import type { IndexSource, SourceChunk } from './organisation-index-cache.ts';
import { OrganisationIndexCache } from './organisation-index-cache.ts';
import type { VectorHit, VectorStore } from './vector-store.ts';

function hit(chunkId: string, score = 1): VectorHit & KeywordHit {
  return { chunkId, documentId: `doc-${chunkId}`, score };
}

function fakes(vectorHits: VectorHit[], keywordHits: KeywordHit[], lexical = false) {
  const embedder: Embedder = {
    name: 'fake',
    dimensions: 2,
    lexical,
    embed: vi.fn(async (texts: readonly string[]) => texts.map(() => new Float32Array([1, 0]))),
  };
  const vectorStore: VectorStore = {
    upsert: vi.fn(async () => undefined),
    deleteDocument: vi.fn(async () => undefined),
    search: vi.fn(async () => vectorHits),
    close: vi.fn(async () => undefined),
  };
  const keywordSearcher: KeywordSearcher = { search: vi.fn(async () => keywordHits) };
  return { embedder, vectorStore, keywordSearcher };
}

describe('HybridRetriever', () => {
  it('fuses the two rankings by reciprocal rank, reporting each rank', async () => {
    const parts = fakes([hit('a'), hit('b'), hit('c')], [hit('c'), hit('d'), hit('a')]);
    const retriever = new HybridRetriever({ ...parts, topK: 10 });
    const hits = await retriever.retrieve('org', 'question');

    // a: 1/61 + 1/63; c: 1/63 + 1/61 (tie, broken by the keyword rank); b: 1/62; d: 1/62.
    expect(hits.map((h) => h.chunkId)).toEqual(['c', 'a', 'd', 'b']);
    expect(hits[0]).toEqual({ chunkId: 'c', documentId: 'doc-c', score: 1 / 63 + 1 / 61, vectorRank: 3, keywordRank: 1 });
    expect(hits[3]).toEqual({ chunkId: 'b', documentId: 'doc-b', score: 1 / 62, vectorRank: 2 });
    expect(parts.vectorStore.search).toHaveBeenCalledWith('org', expect.any(Float32Array), 40, undefined);
    expect(parts.keywordSearcher.search).toHaveBeenCalledWith('org', 'question', 40, undefined);
  });

  it('applies the weights and the RRF constant, and returns top-k', async () => {
    const parts = fakes([hit('v1'), hit('v2')], [hit('k1'), hit('k2')]);
    const retriever = new HybridRetriever({ ...parts, vectorWeight: 2, keywordWeight: 1, rrfK: 10, topK: 3 });
    const hits = await retriever.retrieve('org', 'q');
    expect(hits.map((h) => h.chunkId)).toEqual(['v1', 'v2', 'k1']);
    expect(hits[0]?.score).toBeCloseTo(2 / 11);
    expect(await retriever.retrieve('org', 'q', { topK: 1 })).toHaveLength(1);
  });

  it('skips a ranker whose weight is 0', async () => {
    const keywordOnly = fakes([hit('v')], [hit('k')]);
    expect((await new HybridRetriever({ ...keywordOnly, vectorWeight: 0 }).retrieve('org', 'q')).map((h) => h.chunkId)).toEqual(['k']);
    expect(keywordOnly.embedder.embed).not.toHaveBeenCalled();
    expect(keywordOnly.vectorStore.search).not.toHaveBeenCalled();

    const vectorOnly = fakes([hit('v')], [hit('k')]);
    expect((await new HybridRetriever({ ...vectorOnly, keywordWeight: 0 }).retrieve('org', 'q')).map((h) => h.chunkId)).toEqual(['v']);
    expect(vectorOnly.keywordSearcher.search).not.toHaveBeenCalled();
    expect(() => new HybridRetriever({ ...vectorOnly, keywordWeight: 0, vectorWeight: 0 })).toThrow(RangeError);
  });

  it('trusts BM25 more than a lexical embedder unless told otherwise', async () => {
    const parts = fakes([hit('v1'), hit('v2')], [hit('k1'), hit('k2')], true);
    const hits = await new HybridRetriever(parts).retrieve('org', 'q');
    expect(hits.map((h) => h.chunkId)).toEqual(['k1', 'k2', 'v1', 'v2']);
    expect(hits[2]?.score).toBeCloseTo(LEXICAL_VECTOR_WEIGHT / 61);
    const equal = await new HybridRetriever({ ...parts, vectorWeight: 1 }).retrieve('org', 'q');
    expect(equal.map((h) => h.chunkId)).toEqual(['k1', 'v1', 'k2', 'v2']);
  });

  it('stops between stages when the signal aborts, and passes it to the embedder', async () => {
    const controller = new AbortController();
    const parts = fakes([hit('v')], [hit('k')]);
    parts.embedder.embed = vi.fn(async (texts: readonly string[], signal?: AbortSignal) => {
      expect(signal).toBe(controller.signal);
      controller.abort(new Error('stopped by the user'));
      return texts.map(() => new Float32Array([1, 0]));
    });
    await expect(new HybridRetriever(parts).retrieve('org', 'q', { signal: controller.signal })).rejects.toThrow('stopped by the user');
    expect(parts.vectorStore.search).not.toHaveBeenCalled();

    const already = new AbortController();
    already.abort(new Error('gone'));
    const idle = fakes([hit('v')], [hit('k')]);
    await expect(new HybridRetriever(idle).retrieve('org', 'q', { signal: already.signal })).rejects.toThrow('gone');
    expect(idle.embedder.embed).not.toHaveBeenCalled();
    expect(idle.keywordSearcher.search).not.toHaveBeenCalled();
  });
});

describe('HybridRetriever over the index cache and the offline embedder', () => {
  it('finds English and Hindi passages within one organisation', async () => {
    const embedder = new OfflineHashingEmbedder();
    const chunks: KeywordChunk[] = [
      { chunkId: 'tesla', documentId: 'd1', text: 'Tesla was born in 1856 in the village of Smiljan.' },
      { chunkId: 'warsaw', documentId: 'd2', text: "Warsaw's first stock exchange was established in 1817." },
      { chunkId: 'delhi', documentId: 'd3', text: 'दिल्ली भारत की राजधानी है और यहाँ संसद भवन है।' },
      { chunkId: 'panthers', documentId: 'd4', text: 'पैंथर्स की डिफ़ेन्स ने लीग में केवल 308 अंक दिए।' },
    ];
    const vectors = await embedder.embed(chunks.map((chunk) => chunk.text));
    const stored: Record<string, SourceChunk[]> = {
      org: chunks.map((chunk, i) => ({ ...chunk, vector: vectors[i] as Float32Array })),
      'other-org': [{ chunkId: 'other', documentId: 'x', text: chunks[0]?.text ?? '', vector: vectors[0] as Float32Array }],
    };
    const source: IndexSource = {
      version: async () => 1,
      documents: async (organisationId) =>
        [...new Set((stored[organisationId] ?? []).map((chunk) => chunk.documentId))].map((documentId) => ({ documentId, chunkSet: '1' })),
      chunks: async (organisationId, documentIds) =>
        (stored[organisationId] ?? []).filter((chunk) => documentIds.includes(chunk.documentId)),
    };
    const cache = new OrganisationIndexCache({ source, maxBytes: 10_000_000, dimensions: embedder.dimensions });
    const retriever = new HybridRetriever({ embedder, vectorStore: cache.vectors, keywordSearcher: cache.keyword, topK: 2 });

    expect((await retriever.retrieve('org', 'When was Tesla born?'))[0]).toMatchObject({
      chunkId: 'tesla',
      keywordRank: 1,
      vectorRank: 1,
    });
    expect((await retriever.retrieve('org', 'भारत की राजधानी क्या है?'))[0]?.chunkId).toBe('delhi');
    // Spelling variant (डिफ़ेंस / डिफ़ेन्स) and inflection.
    expect((await retriever.retrieve('org', 'पैंथर्स डिफ़ेंस ने कितने अंक दिए?'))[0]?.chunkId).toBe('panthers');
    const all = await retriever.retrieve('org', 'Tesla', { topK: 10 });
    expect(all.map((h) => h.chunkId)).not.toContain('other');
  });
});
