import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KnowledgeStore } from '@ragstream/store';
import { createKnowledgeStore } from '@ragstream/store';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config.ts';
import { createRetrievalComponents } from './retrieval-components.ts';

describe('createRetrievalComponents', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ragstream-retrieval-'));
  let knowledge: KnowledgeStore;
  beforeAll(async () => {
    knowledge = createKnowledgeStore({ dataDir });
    await knowledge.init();
  });
  afterAll(async () => {
    await knowledge.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  // An embeddings server that refuses connections: retrieval reaches it only when vectors are weighed.
  const unreachable = {
    DATA_DIR: dataDir,
    EMBEDDINGS_PROVIDER: 'openai',
    EMBEDDINGS_BASE_URL: 'http://127.0.0.1:1/v1',
    OPENAI_API_KEY: 'unused',
  };

  it('RETRIEVAL_VECTOR_WEIGHT=0 retrieves with BM25 alone, never asking the embedder', async () => {
    const { retriever } = createRetrievalComponents(loadWorkerConfig({ ...unreachable, RETRIEVAL_VECTOR_WEIGHT: '0' }), knowledge);
    await expect(retriever.retrieve('org-1', 'express shipping')).resolves.toEqual([]);
  });

  it('unset, a model embedder is weighed (and asked)', async () => {
    const { embedder, retriever } = createRetrievalComponents(loadWorkerConfig(unreachable), knowledge);
    expect(embedder.lexical).toBeFalsy();
    await expect(retriever.retrieve('org-1', 'express shipping')).rejects.toThrow();
  });

  it('rejects a negative weight, naming the variable', () => {
    expect(() => loadWorkerConfig({ RETRIEVAL_VECTOR_WEIGHT: '-1' })).toThrow(/RETRIEVAL_VECTOR_WEIGHT/);
  });
});
