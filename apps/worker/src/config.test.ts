import { ConfigError } from '@ragstream/runtime';
import { describe, expect, it } from 'vitest';
import { loadWorkerConfig } from './config.ts';

describe('worker configuration', () => {
  it('takes both roles by default, or the ones listed', () => {
    expect([...loadWorkerConfig({}).WORKER_ROLES]).toEqual(['answer', 'ingest']);
    expect([...loadWorkerConfig({ WORKER_ROLES: 'answer' }).WORKER_ROLES]).toEqual(['answer']);
    expect([...loadWorkerConfig({ WORKER_ROLES: ' ingest , answer ' }).WORKER_ROLES]).toEqual(['ingest', 'answer']);
  });

  it.each(['', 'answers', 'answer,answer', 'answer,,ingest'])('refuses WORKER_ROLES=%j, naming it', (roles) => {
    expect(() => loadWorkerConfig({ WORKER_ROLES: roles })).toThrow(ConfigError);
    expect(() => loadWorkerConfig({ WORKER_ROLES: roles })).toThrow(/WORKER_ROLES/);
  });

  it('bounds the index cache by INDEX_CACHE_MAX_BYTES, 256 MiB by default', () => {
    expect(loadWorkerConfig({}).INDEX_CACHE_MAX_BYTES).toBe(256 * 1024 * 1024);
    expect(loadWorkerConfig({ INDEX_CACHE_MAX_BYTES: '1073741824' }).INDEX_CACHE_MAX_BYTES).toBe(1024 ** 3);
    expect(() => loadWorkerConfig({ INDEX_CACHE_MAX_BYTES: '1000' })).toThrow(/INDEX_CACHE_MAX_BYTES/);
  });

  it('names the Milvus collection by MILVUS_COLLECTION, ragstream_chunks by default, and refuses a name Milvus would not take', () => {
    expect(loadWorkerConfig({}).MILVUS_COLLECTION).toBe('ragstream_chunks');
    expect(loadWorkerConfig({ MILVUS_COLLECTION: 'chunks_minilm_384' }).MILVUS_COLLECTION).toBe('chunks_minilm_384');
    expect(() => loadWorkerConfig({ MILVUS_COLLECTION: '384-chunks' })).toThrow(/MILVUS_COLLECTION/);
  });
});
