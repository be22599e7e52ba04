import { dot } from './embedder.ts';
import type { VectorHit, VectorRecord, VectorStore } from './vector-store.ts';
import { assertDimensions } from './vector-store.ts';

/**
 * Brute-force cosine search in memory. The reference that the approximate
 * stores are measured against in tests; not meant for production use.
 */
export class ExactVectorStore implements VectorStore {
  // organisation -> chunkId -> record
  private readonly organisations = new Map<string, Map<string, VectorRecord>>();

  constructor(private readonly dimensions: number) {}

  async upsert(records: readonly VectorRecord[]): Promise<void> {
    for (const record of records) {
      assertDimensions(record.vector, this.dimensions);
      let chunks = this.organisations.get(record.organisationId);
      if (!chunks) {
        chunks = new Map();
        this.organisations.set(record.organisationId, chunks);
      }
      chunks.set(record.chunkId, { ...record, vector: normalized(record.vector) });
    }
  }

  async deleteDocument(organisationId: string, documentId: string): Promise<void> {
    const chunks = this.organisations.get(organisationId);
    if (!chunks) return;
    for (const [chunkId, record] of chunks) if (record.documentId === documentId) chunks.delete(chunkId);
  }

  async search(organisationId: string, vector: Float32Array, k: number): Promise<VectorHit[]> {
    assertDimensions(vector, this.dimensions);
    const query = normalized(vector);
    const hits: VectorHit[] = [];
    for (const record of this.organisations.get(organisationId)?.values() ?? []) {
      hits.push({ chunkId: record.chunkId, documentId: record.documentId, score: dot(query, record.vector) });
    }
    return hits.sort((a, b) => b.score - a.score).slice(0, Math.max(0, k));
  }

  async close(): Promise<void> {
    this.organisations.clear();
  }
}

function normalized(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  const scale = sum === 0 ? 0 : 1 / Math.sqrt(sum);
  return vector.map((value) => value * scale);
}
