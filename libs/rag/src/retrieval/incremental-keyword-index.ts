import MiniSearch from 'minisearch';
import type { Bm25Options, KeywordChunk, KeywordHit } from './keyword-index.ts';
import { DEFAULT_BM25, keywordTokens } from './keyword-index.ts';
import { stableRanking } from './stable-ranking.ts';

interface IndexedChunk {
  id: string;
  text: string;
  title: string;
}

/**
 * Bytes held per UTF-16 code unit of indexed text, for cache budgets: about 4 for MiniSearch's
 * terms, postings and field lengths (heap measured over 3,000 chunks of 1,500 characters), and up
 * to 2 for the text kept for remove().
 */
const BYTES_PER_TEXT_UNIT = 6;
/** Per chunk: ids, the id maps, field lengths. */
const BYTES_PER_CHUNK = 200;

/**
 * An in-memory BM25 index that takes and drops documents one at a time (MiniSearch), so that
 * keeping an organisation's index current costs work in proportion to what changed, not to the
 * organisation's size. Same tokens as the rest of retrieval (keywordTokens), plain BM25 (BM25+'s
 * delta set to 0), titles searched with their own weight.
 */
export class IncrementalKeywordIndex {
  private readonly search_: MiniSearch<IndexedChunk>;
  private readonly documentOf = new Map<string, string>();
  /** Each document's chunks as indexed: MiniSearch's remove() needs the same fields again. */
  private readonly chunksOf = new Map<string, { chunks: IndexedChunk[]; units: number }>();
  private textUnits = 0;

  constructor(options: Bm25Options = {}) {
    const { k1, b, titleWeight } = { ...DEFAULT_BM25, ...options };
    const fields = titleWeight > 0 ? ['text', 'title'] : ['text'];
    this.search_ = new MiniSearch<IndexedChunk>({
      fields,
      storeFields: [],
      tokenize: keywordTokens,
      // keywordTokens already lower-cases, drops stopwords and stems.
      processTerm: (term) => term,
      searchOptions: { fields, boost: { title: titleWeight }, bm25: { k: k1, b, d: 0 }, combineWith: 'OR' },
    });
  }

  get size(): number {
    return this.documentOf.size;
  }

  /** An estimate of the memory the index holds, for cache budgets. */
  get bytes(): number {
    return this.textUnits * BYTES_PER_TEXT_UNIT + this.documentOf.size * BYTES_PER_CHUNK;
  }

  /** Adds one document's chunks; the document must not be in the index (see removeDocument). */
  addDocument(documentId: string, chunks: readonly KeywordChunk[]): void {
    if (this.chunksOf.has(documentId)) throw new Error(`document ${documentId} is already indexed`);
    let units = 0;
    const indexed: IndexedChunk[] = [];
    for (const chunk of chunks) {
      const entry = { id: chunk.chunkId, text: chunk.text, title: chunk.title ?? '' };
      this.search_.add(entry);
      this.documentOf.set(chunk.chunkId, documentId);
      indexed.push(entry);
      units += entry.text.length + entry.title.length;
    }
    this.chunksOf.set(documentId, { chunks: indexed, units });
    this.textUnits += units;
  }

  /** Drops a document's chunks (a no-op for one not indexed). */
  removeDocument(documentId: string): void {
    const entry = this.chunksOf.get(documentId);
    if (!entry) return;
    // remove(), not discard(): discarded postings still count in document frequencies until a
    // vacuum, so scores would depend on the index's history and workers would rank differently.
    for (const chunk of entry.chunks) {
      this.search_.remove(chunk);
      this.documentOf.delete(chunk.id);
    }
    this.chunksOf.delete(documentId);
    this.textUnits -= entry.units;
  }

  /** Up to `k` chunks by BM25 score, best first; chunks sharing no term with the query are left out. */
  search(query: string, k: number): KeywordHit[] {
    if (k < 1 || this.documentOf.size === 0) return [];
    const hits: KeywordHit[] = [];
    for (const result of this.search_.search(query)) {
      const documentId = this.documentOf.get(String(result.id));
      if (documentId !== undefined) hits.push({ chunkId: String(result.id), documentId, score: result.score });
    }
    return stableRanking(hits).slice(0, Math.floor(k));
  }
}
