import type { Embedder, IndexSource, SourceChunk } from '@ragstream/rag';
import type { IndexChunk, KnowledgeStore } from '@ragstream/store';

/**
 * The knowledge store as the source of the workers' search indexes. A chunk stored without a
 * vector (ingested before vectors were stored), or with one of another length (the embedding
 * model changed), is embedded again here when `embedder` is given, as ingestion embeds it.
 */
export class StoreIndexSource implements IndexSource {
  constructor(
    private readonly knowledge: KnowledgeStore,
    private readonly embedder: Embedder | undefined,
  ) {}

  version(organisationId: string): Promise<number> {
    return this.knowledge.getIndexVersion(organisationId);
  }

  documents(organisationId: string): Promise<readonly { documentId: string; chunkSet: string }[]> {
    return this.knowledge.listIndexedDocuments(organisationId);
  }

  async chunks(organisationId: string, documentIds: readonly string[]): Promise<readonly SourceChunk[]> {
    const stored = await this.knowledge.getIndexChunks(organisationId, documentIds);
    const embedder = this.embedder;
    const missing = embedder ? stored.filter((chunk) => chunk.vector?.length !== embedder.dimensions) : [];
    const vectors = new Map<string, Float32Array>();
    if (embedder && missing.length > 0) {
      const embedded = await embedder.embed(missing.map(embeddingText));
      missing.forEach((chunk, i) => {
        const vector = embedded[i];
        if (vector) vectors.set(chunk.chunkId, vector);
      });
    }
    return stored.map((chunk) => {
      const source: SourceChunk = {
        chunkId: chunk.chunkId,
        documentId: chunk.documentId,
        // The heading is searched with the text, the document's title with its own weight.
        text: chunk.heading ? `${chunk.heading}\n${chunk.text}` : chunk.text,
        title: chunk.title,
      };
      const vector = vectors.get(chunk.chunkId) ?? chunk.vector;
      if (embedder && vector) source.vector = vector;
      return source;
    });
  }
}

/** What ingestion embeds for a chunk: the title and heading often name what it is about. */
export function embeddingText(chunk: Pick<IndexChunk, 'title' | 'heading' | 'text'>): string {
  return [chunk.title, chunk.heading, chunk.text].filter(Boolean).join('\n');
}
