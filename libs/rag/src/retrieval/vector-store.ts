/** One chunk's vector, owned by exactly one organisation. */
export interface VectorRecord {
  chunkId: string;
  documentId: string;
  organisationId: string;
  vector: Float32Array;
}

export interface VectorHit {
  chunkId: string;
  documentId: string;
  /** Cosine similarity, higher is closer (1 = same direction). */
  score: number;
}

/** What retrieval needs of a vector store: search within one organisation. */
export interface VectorSearcher {
  /** Up to `k` chunks of the organisation closest to `vector`, best first. */
  search(organisationId: string, vector: Float32Array, k: number, signal?: AbortSignal): Promise<VectorHit[]>;
}

/**
 * Nearest-neighbour search over chunk vectors. Every query is confined to one
 * organisation: no adapter may return another organisation's chunks.
 */
export interface VectorStore extends VectorSearcher {
  /** Inserts records; a record whose chunkId exists in its organisation replaces it. */
  upsert(records: readonly VectorRecord[], signal?: AbortSignal): Promise<void>;
  /** Removes every chunk of one document (a no-op for unknown ids). */
  deleteDocument(organisationId: string, documentId: string, signal?: AbortSignal): Promise<void>;
  close(): Promise<void>;
}

/** Throws when a vector does not have the store's dimensions (a wrong model or VECTOR_DIMENSIONS). */
export function assertDimensions(vector: Float32Array, dimensions: number): void {
  if (vector.length !== dimensions) {
    throw new RangeError(`vector has ${vector.length} dimensions, the store expects ${dimensions}`);
  }
}
