import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { LRUCache } from 'lru-cache';
import { IncrementalKeywordIndex } from './incremental-keyword-index.ts';
import type { Bm25Options, KeywordChunk, KeywordSearcher } from './keyword-index.ts';
import type { HnswOptions } from './memory-vector-index.ts';
import { MemoryVectorIndex } from './memory-vector-index.ts';
import type { VectorSearcher } from './vector-store.ts';

/** A chunk as the source of truth hands it to an index. */
export interface SourceChunk extends KeywordChunk {
  /** Left out of the vector index when absent. */
  vector?: Float32Array;
}

/** The shared store that the cached indexes are built from (the knowledge store, through an adapter). */
export interface IndexSource {
  /** The organisation's index version: it changes whenever its searchable chunks change. */
  version(organisationId: string): Promise<number>;
  /** Its documents with searchable chunks, each with a stamp that changes when they are replaced. */
  documents(organisationId: string): Promise<readonly { documentId: string; chunkSet: string }[]>;
  /** The current chunks of these documents. */
  chunks(organisationId: string, documentIds: readonly string[]): Promise<readonly SourceChunk[]>;
}

export interface OrganisationIndexCacheOptions {
  source: IndexSource;
  /** Budget of every organisation's indexes together, in (estimated) bytes; least recently used ones go first. */
  maxBytes: number;
  /** Vector length; undefined keeps no vector index (vectors live elsewhere, e.g. in Milvus). */
  dimensions?: number | undefined;
  bm25?: Bm25Options;
  hnsw?: HnswOptions;
  /** Called for each organisation's indexes evicted to stay within the budget. */
  onEvict?: () => void;
}

/** Documents read from the source at once. */
const DOCUMENTS_PER_STEP = 16;
/**
 * Longest run of index updates before the event loop gets a turn (timers, lock renewals, other
 * answers' frames): awaiting an embedded store does not yield, as its reads are synchronous.
 */
const SLICE_MS = 5;

class OrganisationIndexes {
  version = -1;
  readonly chunkSets = new Map<string, string>();
  readonly keyword: IncrementalKeywordIndex;
  readonly vectors: MemoryVectorIndex | undefined;

  constructor(options: OrganisationIndexCacheOptions) {
    this.keyword = new IncrementalKeywordIndex(options.bm25);
    this.vectors = options.dimensions === undefined ? undefined : new MemoryVectorIndex(options.dimensions, options.hnsw);
  }

  get bytes(): number {
    return this.keyword.bytes + (this.vectors?.bytes ?? 0);
  }
}

interface RefreshQueue {
  /** The last refresh started or queued; the next one runs after it. */
  tail: Promise<unknown>;
  /** A refresh queued and not started yet: whoever asks now may share it, since it reads the version after they asked. */
  queued: Promise<OrganisationIndexes> | undefined;
}

/**
 * Each organisation's BM25 and vector indexes in this worker's memory, as a cache of the shared
 * store: no local file is read or written, so every worker answers from the same data.
 *
 * Before each search the organisation's index version is read from the store (one small read).
 * When it moved, the cache lists the organisation's documents with their chunk sets and applies
 * the difference: documents gone or replaced are dropped, new or replaced ones read and added. So
 * an ingestion costs one document's work here, and a document is found as soon as its chunks are
 * committed. Refreshes of one organisation run one at a time; searches that arrive while one is
 * waiting to start share it. Updates give the event loop a turn every few milliseconds; a
 * document's removal and re-adding happen in one synchronous step per index, so a search never
 * misses a document that is only being replaced.
 *
 * Memory is bounded by `maxBytes` over all organisations (lru-cache's maxSize, each entry sized
 * by its indexes' estimate); an evicted organisation is rebuilt from the store on its next query.
 */
export class OrganisationIndexCache {
  private readonly cache: LRUCache<string, OrganisationIndexes>;
  private readonly queues = new Map<string, RefreshQueue>();

  /** Keyword search through the cache, for the hybrid retriever. */
  readonly keyword: KeywordSearcher = {
    search: async (organisationId, query, k, signal) => {
      signal?.throwIfAborted();
      const indexes = await this.current(organisationId);
      signal?.throwIfAborted();
      return indexes.keyword.search(query, k);
    },
  };

  /** Vector search through the cache, for the hybrid retriever (empty without `dimensions`). */
  readonly vectors: VectorSearcher = {
    search: async (organisationId, vector, k, signal) => {
      signal?.throwIfAborted();
      const indexes = await this.current(organisationId);
      signal?.throwIfAborted();
      return indexes.vectors?.search(vector, k) ?? [];
    },
  };

  constructor(private readonly options: OrganisationIndexCacheOptions) {
    this.cache = new LRUCache<string, OrganisationIndexes>({
      maxSize: options.maxBytes,
      sizeCalculation: (indexes) => Math.max(1, indexes.bytes),
      dispose: (_indexes, _organisationId, reason) => {
        if (reason === 'evict') options.onEvict?.();
      },
    });
  }

  /** Estimated bytes held by the cached indexes. */
  get bytes(): number {
    return this.cache.calculatedSize;
  }

  get organisations(): number {
    return this.cache.size;
  }

  /** The organisation's indexes, brought up to the store's current version. */
  private current(organisationId: string): Promise<OrganisationIndexes> {
    let queue = this.queues.get(organisationId);
    if (!queue) {
      queue = { tail: Promise.resolve(), queued: undefined };
      this.queues.set(organisationId, queue);
    }
    if (queue.queued) return queue.queued;
    const state = queue;
    const run: Promise<OrganisationIndexes> = state.tail
      .catch(() => undefined)
      .then(() => {
        if (state.queued === run) state.queued = undefined;
        return this.refresh(organisationId);
      });
    state.queued = run;
    state.tail = run;
    // Forget the queue once idle, so that it does not outlive the organisation's cache entry.
    run.then(
      () => this.forgetIfIdle(organisationId, state, run),
      () => this.forgetIfIdle(organisationId, state, run),
    );
    return run;
  }

  clear(): void {
    this.cache.clear();
  }

  private forgetIfIdle(organisationId: string, state: RefreshQueue, run: Promise<OrganisationIndexes>): void {
    if (state.tail === run && this.queues.get(organisationId) === state) this.queues.delete(organisationId);
  }

  private async refresh(organisationId: string): Promise<OrganisationIndexes> {
    const { source } = this.options;
    const version = await source.version(organisationId);
    const cached = this.cache.get(organisationId);
    if (cached && cached.version === version) return cached;
    const indexes = cached ?? new OrganisationIndexes(this.options);
    try {
      await this.catchUp(organisationId, indexes);
    } catch (error) {
      // Half applied: start from nothing next time.
      this.cache.delete(organisationId);
      throw error;
    }
    // Labelled with the version read before the listing: a change after it shows as a newer version.
    indexes.version = version;
    this.cache.set(organisationId, indexes);
    return indexes;
  }

  private async catchUp(organisationId: string, indexes: OrganisationIndexes): Promise<void> {
    const listed = await this.options.source.documents(organisationId);
    const listedIds = new Set(listed.map((entry) => entry.documentId));
    for (const documentId of [...indexes.chunkSets.keys()]) {
      if (listedIds.has(documentId)) continue;
      indexes.keyword.removeDocument(documentId);
      indexes.vectors?.removeDocument(documentId);
      indexes.chunkSets.delete(documentId);
    }
    const changed = listed.filter((entry) => indexes.chunkSets.get(entry.documentId) !== entry.chunkSet);
    let sliceStartedAt = performance.now();
    const pause = async (): Promise<void> => {
      if (performance.now() - sliceStartedAt < SLICE_MS) return;
      await yieldToEventLoop();
      sliceStartedAt = performance.now();
    };
    for (let start = 0; start < changed.length; start += DOCUMENTS_PER_STEP) {
      const step = changed.slice(start, start + DOCUMENTS_PER_STEP);
      const chunks = await this.options.source.chunks(
        organisationId,
        step.map((entry) => entry.documentId),
      );
      const byDocument = new Map<string, SourceChunk[]>();
      for (const chunk of chunks) {
        const list = byDocument.get(chunk.documentId) ?? [];
        list.push(chunk);
        byDocument.set(chunk.documentId, list);
      }
      for (const { documentId, chunkSet } of step) {
        const documentChunks = byDocument.get(documentId) ?? [];
        indexes.keyword.removeDocument(documentId);
        indexes.keyword.addDocument(documentId, documentChunks);
        await pause();
        if (indexes.vectors) {
          indexes.vectors.removeDocument(documentId);
          indexes.vectors.addDocument(
            documentId,
            documentChunks.flatMap((chunk) => (chunk.vector ? [{ chunkId: chunk.chunkId, vector: chunk.vector }] : [])),
          );
        }
        indexes.chunkSets.set(documentId, chunkSet);
        await pause();
      }
    }
  }
}
