/// <reference path="./wink-bm25-text-search.d.ts" />

import type { Bm25Engine } from 'wink-bm25-text-search';
import bm25 from 'wink-bm25-text-search';
import { contentTokens } from '../tokenizer.ts';
import { foldSpelling } from './spelling-fold.ts';

/** What the keyword index needs of a chunk. */
export interface KeywordChunk {
  chunkId: string;
  documentId: string;
  text: string;
  /** The document's title (or the chunk's heading): searched with its own weight. */
  title?: string;
}

export interface KeywordHit {
  chunkId: string;
  documentId: string;
  /** BM25 score: only comparable within one query. */
  score: number;
}

export interface Bm25Options {
  /** Term-frequency saturation (default 1.2). */
  k1?: number;
  /** Length normalisation (default 0.75). */
  b?: number;
  /** Weight of the title field relative to the text (default 0.5; 0 leaves titles out). */
  titleWeight?: number;
}

export const DEFAULT_BM25: Required<Bm25Options> = { k1: 1.2, b: 0.75, titleWeight: 0.5 };

const FORMAT = 1;
/** wink refuses to consolidate fewer documents than this. */
const MIN_DOCUMENTS = 3;
const PADDING_PREFIX = 'pad:';

/** The serialised index: wink's export plus our chunk table. */
interface SerialisedIndex {
  format: number;
  /** [chunkId, documentId]; wink's document id is the position in this list. */
  chunks: [string, string][];
  /** wink's exportJSON(), parsed. */
  wink: unknown;
}

/**
 * The tokens BM25 sees, for documents and queries alike: the shared tokenizer
 * (which keeps Devanagari words whole, unlike wink's default), stopwords
 * dropped, Porter or Hindi stems, Devanagari spelling variants folded.
 */
export function keywordTokens(text: string): string[] {
  return contentTokens(text, { stem: true }).map(foldSpelling);
}

function createEngine(options: Bm25Options): Bm25Engine {
  const { k1, b, titleWeight } = { ...DEFAULT_BM25, ...options };
  const engine = bm25();
  engine.defineConfig({
    fldWeights: titleWeight > 0 ? { text: 1, title: titleWeight } : { text: 1 },
    bm25Params: { k1, b, k: 1 },
  });
  engine.definePrepTasks([keywordTokens]);
  return engine;
}

/**
 * Builds an immutable BM25 index of `chunks` and returns it serialised. wink
 * cannot add documents after `consolidate()`, so an index is never updated:
 * the whole organisation is rebuilt (see KeywordIndexStore). Corpora under
 * three chunks are padded with empty documents, which never match a query.
 */
export function buildKeywordIndex(chunks: readonly KeywordChunk[], options: Bm25Options = {}): string {
  const engine = createEngine(options);
  const titled = { ...DEFAULT_BM25, ...options }.titleWeight > 0;
  chunks.forEach((chunk, i) => {
    engine.addDoc(titled ? { text: chunk.text, title: chunk.title ?? '' } : { text: chunk.text }, String(i));
  });
  for (let i = chunks.length; i < MIN_DOCUMENTS; i += 1) {
    engine.addDoc(titled ? { text: '', title: '' } : { text: '' }, `${PADDING_PREFIX}${i}`);
  }
  engine.consolidate();
  const serialised: SerialisedIndex = {
    format: FORMAT,
    chunks: chunks.map((chunk) => [chunk.chunkId, chunk.documentId]),
    wink: JSON.parse(engine.exportJSON()) as unknown,
  };
  return JSON.stringify(serialised);
}

/** A loaded, read-only BM25 index. */
export class KeywordIndex {
  private constructor(
    private readonly engine: Bm25Engine,
    private readonly chunks: readonly [string, string][],
  ) {}

  /** Loads what `buildKeywordIndex` produced (the BM25 parameters travel inside it). */
  static load(json: string): KeywordIndex {
    const parsed = JSON.parse(json) as SerialisedIndex;
    if (parsed.format !== FORMAT || !Array.isArray(parsed.chunks)) throw new Error('not a keyword index of a known format');
    const engine = bm25();
    engine.importJSON(JSON.stringify(parsed.wink));
    // Preparation tasks are functions, so they are not serialised: set them again.
    engine.definePrepTasks([keywordTokens]);
    return new KeywordIndex(engine, parsed.chunks);
  }

  get size(): number {
    return this.chunks.length;
  }

  /** Up to `k` chunks by BM25 score, best first; chunks sharing no term with the query are left out. */
  search(query: string, k: number): KeywordHit[] {
    if (k < 1 || this.chunks.length === 0) return [];
    const hits: KeywordHit[] = [];
    for (const [id, score] of this.engine.search(query, Math.floor(k))) {
      const chunk = this.chunks[Number(id)];
      if (!chunk || id.startsWith(PADDING_PREFIX)) continue;
      hits.push({ chunkId: chunk[0], documentId: chunk[1], score });
    }
    return hits;
  }
}
