import { join } from 'node:path';
import type { Embedder, VectorStore } from '@ragstream/rag';
import {
  HnswVectorStore,
  HybridRetriever,
  KeywordIndexStore,
  MilvusVectorStore,
  OfflineHashingEmbedder,
  OpenAIEmbedder,
} from '@ragstream/rag';
import type { WorkerConfig } from './config.ts';

export interface RetrievalComponents {
  embedder: Embedder;
  vectorStore: VectorStore;
  keywordIndex: KeywordIndexStore;
  retriever: HybridRetriever;
}

/** Embedder, vector store and BM25 indexes as configured; embedded ones live under DATA_DIR. */
export function createRetrievalComponents(config: WorkerConfig): RetrievalComponents {
  const embedder: Embedder =
    config.EMBEDDINGS_PROVIDER === 'openai'
      ? new OpenAIEmbedder({
          apiKey: config.OPENAI_API_KEY,
          baseURL: config.EMBEDDINGS_BASE_URL ?? config.OPENAI_BASE_URL,
          model: config.EMBEDDING_MODEL,
          dimensions: config.VECTOR_DIMENSIONS,
        })
      : new OfflineHashingEmbedder({ dimensions: config.VECTOR_DIMENSIONS });
  const vectorStore: VectorStore = config.MILVUS_ADDRESS
    ? new MilvusVectorStore({ address: config.MILVUS_ADDRESS, dimensions: embedder.dimensions })
    : new HnswVectorStore({ dataDir: join(config.DATA_DIR, 'vectors'), dimensions: embedder.dimensions });
  const keywordIndex = new KeywordIndexStore({ dataDir: join(config.DATA_DIR, 'keyword') });
  const retriever = new HybridRetriever({
    embedder,
    vectorStore,
    keywordSearcher: keywordIndex,
    topK: config.RETRIEVAL_TOP_K,
    vectorWeight: config.RETRIEVAL_VECTOR_WEIGHT,
  });
  return { embedder, vectorStore, keywordIndex, retriever };
}
