import type { Embedder, VectorStore } from '@ragstream/rag';
import { HybridRetriever, MilvusVectorStore, OfflineHashingEmbedder, OpenAIEmbedder, OrganisationIndexCache } from '@ragstream/rag';
import type { KnowledgeStore } from '@ragstream/store';
import type { WorkerConfig } from './config.ts';
import { StoreIndexSource } from './store-index-source.ts';

export interface RetrievalComponents {
  embedder: Embedder;
  /** Milvus, when configured: ingestion writes vectors there too, and answers search it. */
  milvus: VectorStore | undefined;
  /** BM25 (and, without Milvus, HNSW) indexes in memory, kept current from the knowledge store. */
  indexCache: OrganisationIndexCache;
  retriever: HybridRetriever;
}

/** Embedder, vector search and BM25 as configured; nothing is read from or written to local files. */
export function createRetrievalComponents(
  config: WorkerConfig,
  knowledge: KnowledgeStore,
  onIndexEvicted?: () => void,
): RetrievalComponents {
  const embedder: Embedder =
    config.EMBEDDINGS_PROVIDER === 'openai'
      ? new OpenAIEmbedder({
          apiKey: config.OPENAI_API_KEY,
          baseURL: config.EMBEDDINGS_BASE_URL ?? config.OPENAI_BASE_URL,
          model: config.EMBEDDING_MODEL,
          dimensions: config.VECTOR_DIMENSIONS,
        })
      : new OfflineHashingEmbedder({ dimensions: config.VECTOR_DIMENSIONS });
  const milvus = config.MILVUS_ADDRESS
    ? new MilvusVectorStore({ address: config.MILVUS_ADDRESS, collection: config.MILVUS_COLLECTION, dimensions: embedder.dimensions })
    : undefined;
  const indexCache = new OrganisationIndexCache({
    source: new StoreIndexSource(knowledge, milvus ? undefined : embedder),
    maxBytes: config.INDEX_CACHE_MAX_BYTES,
    dimensions: milvus ? undefined : embedder.dimensions,
    ...(onIndexEvicted ? { onEvict: onIndexEvicted } : {}),
  });
  const retriever = new HybridRetriever({
    embedder,
    vectorStore: milvus ?? indexCache.vectors,
    keywordSearcher: indexCache.keyword,
    topK: config.RETRIEVAL_TOP_K,
    vectorWeight: config.RETRIEVAL_VECTOR_WEIGHT,
  });
  return { embedder, milvus, indexCache, retriever };
}
