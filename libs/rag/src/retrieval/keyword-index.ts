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

/** What the hybrid retriever needs of keyword search. */
export interface KeywordSearcher {
  search(organisationId: string, query: string, k: number, signal?: AbortSignal): Promise<KeywordHit[]>;
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

/**
 * The tokens BM25 sees, for documents and queries alike: the shared tokenizer
 * (which keeps Devanagari words whole), stopwords dropped, Porter or Hindi stems,
 * Devanagari spelling variants folded.
 */
export function keywordTokens(text: string): string[] {
  return contentTokens(text, { stem: true }).map(foldSpelling);
}
