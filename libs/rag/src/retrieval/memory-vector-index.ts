import type { HierarchicalNSW } from 'hnswlib-node';
import hnswlib from 'hnswlib-node';
import { stableRanking } from './stable-ranking.ts';
import type { VectorHit } from './vector-store.ts';
import { assertDimensions } from './vector-store.ts';

export interface HnswOptions {
  /** HNSW graph degree (default 16). */
  m?: number;
  /** Candidate list size while building (default 200). */
  efConstruction?: number;
  /** Candidate list size while searching, raised to k when k is larger (default 256: recall@10 >= 0.99 on clustered data). */
  efSearch?: number;
  /** Capacity of a new index; it grows as needed (default 256). */
  initialCapacity?: number;
}

export interface IndexedVector {
  chunkId: string;
  vector: Float32Array;
}

interface ChunkRef {
  chunkId: string;
  documentId: string;
}

/** Per chunk, besides the vector and the graph's links: the label maps and hnswlib's own bookkeeping. */
const BYTES_PER_POINT_OVERHEAD = 160;

/**
 * One organisation's vectors in an in-memory HNSW graph (hnswlib, cosine) that takes and drops
 * documents one at a time: a dropped document's points are marked deleted and their slots reused.
 */
export class MemoryVectorIndex {
  private readonly m: number;
  private readonly efConstruction: number;
  private readonly efSearch: number;
  private readonly initialCapacity: number;
  private index: HierarchicalNSW | undefined;
  private readonly labels = new Map<number, ChunkRef>();
  private readonly labelsOf = new Map<string, number[]>();
  private nextLabel = 0;

  constructor(
    readonly dimensions: number,
    options: HnswOptions = {},
  ) {
    if (!Number.isInteger(dimensions) || dimensions < 1) throw new RangeError(`dimensions must be a positive integer, not ${dimensions}`);
    this.m = options.m ?? 16;
    this.efConstruction = options.efConstruction ?? 200;
    this.efSearch = options.efSearch ?? 256;
    this.initialCapacity = options.initialCapacity ?? 256;
  }

  get size(): number {
    return this.labels.size;
  }

  /** The memory the index holds: its capacity in vectors and level-0 links, and the label maps. */
  get bytes(): number {
    const capacity = this.index?.getMaxElements() ?? 0;
    return capacity * (this.dimensions * 4 + this.m * 2 * 4) + this.labels.size * BYTES_PER_POINT_OVERHEAD;
  }

  /** Adds one document's vectors; the document must not be in the index (see removeDocument). */
  addDocument(documentId: string, vectors: readonly IndexedVector[]): void {
    if (this.labelsOf.has(documentId)) throw new Error(`document ${documentId} is already indexed`);
    for (const { vector } of vectors) assertDimensions(vector, this.dimensions);
    const index = this.withRoomFor(vectors.length);
    const labels: number[] = [];
    for (const { chunkId, vector } of vectors) {
      // Always a new label, which may take the slot of a deleted point (hnswlib forgets that point's label then).
      const label = this.nextLabel++;
      index.addPoint(Array.from(vector), label, true);
      this.labels.set(label, { chunkId, documentId });
      labels.push(label);
    }
    this.labelsOf.set(documentId, labels);
  }

  /** Drops a document's vectors (a no-op for one not indexed). */
  removeDocument(documentId: string): void {
    const labels = this.labelsOf.get(documentId);
    if (!labels) return;
    for (const label of labels) {
      this.index?.markDelete(label);
      this.labels.delete(label);
    }
    this.labelsOf.delete(documentId);
  }

  /** Up to `k` chunks closest to `vector`, best first, scored by cosine similarity. */
  search(vector: Float32Array, k: number): VectorHit[] {
    assertDimensions(vector, this.dimensions);
    const wanted = Math.min(Math.floor(k), this.labels.size);
    const index = this.index;
    if (!index || wanted < 1) return [];
    index.setEf(Math.max(this.efSearch, wanted));
    const { neighbors, distances } = index.searchKnn(Array.from(vector), wanted);
    const hits: VectorHit[] = [];
    neighbors.forEach((label, i) => {
      const ref = this.labels.get(label);
      // hnswlib's cosine distance is 1 - cosine similarity.
      if (ref) hits.push({ chunkId: ref.chunkId, documentId: ref.documentId, score: 1 - (distances[i] ?? 1) });
    });
    return stableRanking(hits);
  }

  /** The index, created or grown so that `adding` more points fit in free and deleted slots. */
  private withRoomFor(adding: number): HierarchicalNSW {
    if (!this.index) {
      const index = new hnswlib.HierarchicalNSW('cosine', this.dimensions);
      index.initIndex({
        maxElements: Math.max(this.initialCapacity, adding),
        m: this.m,
        efConstruction: this.efConstruction,
        randomSeed: 100,
        allowReplaceDeleted: true,
      });
      this.index = index;
      return index;
    }
    const count = this.index.getCurrentCount();
    const needed = count + Math.max(0, adding - (count - this.labels.size));
    if (needed > this.index.getMaxElements()) this.index.resizeIndex(Math.max(needed, Math.ceil(this.index.getMaxElements() * 1.5)));
    return this.index;
  }
}
