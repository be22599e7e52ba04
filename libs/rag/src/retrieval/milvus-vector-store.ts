import type { MilvusClient } from '@zilliz/milvus2-sdk-node';
import type { VectorHit, VectorRecord, VectorStore } from './vector-store.ts';
import { assertDimensions } from './vector-store.ts';

export interface MilvusVectorStoreOptions {
  /** host:port of Milvus (MILVUS_ADDRESS). */
  address: string;
  dimensions: number;
  /** Default `ragstream_chunks`; one collection holds every organisation. */
  collection?: string;
  token?: string;
  username?: string;
  password?: string;
  database?: string;
  /** Per-call gRPC timeout (default 30 s). */
  timeoutMs?: number;
}

type MilvusSdk = typeof import('@zilliz/milvus2-sdk-node');

// Ids are kept short enough for VarChar primary keys; longer ids are refused.
const MAX_ID_LENGTH = 512;

/**
 * Milvus adapter. One collection for all organisations, with
 * `organisation_id` as the partition key (Milvus hashes it into partitions, so
 * a search filtered by it touches only that organisation's data) and every
 * query filtered by it. The collection, its HNSW/COSINE index and the load
 * are created on first use. Reads use Strong consistency so that a search
 * right after ingestion sees the new chunks. The SDK (gRPC, protobuf; about
 * half a second to import) is loaded on first use, so that processes without
 * MILVUS_ADDRESS never pay for it.
 */
export class MilvusVectorStore implements VectorStore {
  private readonly options: MilvusVectorStoreOptions;
  private readonly collection: string;
  private readonly dimensions: number;
  private ready: Promise<{ client: MilvusClient; sdk: MilvusSdk }> | undefined;

  constructor(options: MilvusVectorStoreOptions) {
    this.options = options;
    this.collection = options.collection ?? 'ragstream_chunks';
    this.dimensions = options.dimensions;
  }

  async upsert(records: readonly VectorRecord[], signal?: AbortSignal): Promise<void> {
    if (records.length === 0) return;
    const { client } = await this.connect();
    signal?.throwIfAborted();
    const data = records.map((record) => {
      assertDimensions(record.vector, this.dimensions);
      for (const id of [record.chunkId, record.documentId, record.organisationId]) checkId(id);
      return {
        chunk_id: record.chunkId,
        document_id: record.documentId,
        organisation_id: record.organisationId,
        vector: Array.from(record.vector),
      };
    });
    // Delete, then insert, rather than upsert: Milvus 2.3's upsert loses the rows it writes into a
    // partition-key collection (seen on 2.3.5, the server the engine tests run). A chunk's id is new
    // with each revision of its document, so only a retried ingestion writes one again, and the chunk
    // missing from searches for that moment is harmless.
    const ids = data.map((row) => quote(row.chunk_id)).join(', ');
    check(await client.delete({ collection_name: this.collection, filter: `chunk_id in [${ids}]` }), 'delete');
    check(await client.insert({ collection_name: this.collection, data }), 'insert');
  }

  async deleteDocument(organisationId: string, documentId: string, signal?: AbortSignal): Promise<void> {
    const { client } = await this.connect();
    signal?.throwIfAborted();
    const filter = `organisation_id == ${quote(organisationId)} && document_id == ${quote(documentId)}`;
    check(await client.delete({ collection_name: this.collection, filter }), 'delete');
  }

  async search(organisationId: string, vector: Float32Array, k: number, signal?: AbortSignal): Promise<VectorHit[]> {
    assertDimensions(vector, this.dimensions);
    if (k < 1) return [];
    const { client, sdk } = await this.connect();
    signal?.throwIfAborted();
    const response = await client.search({
      collection_name: this.collection,
      data: Array.from(vector),
      limit: Math.floor(k),
      filter: `organisation_id == ${quote(organisationId)}`,
      output_fields: ['chunk_id', 'document_id'],
      metric_type: 'COSINE',
      consistency_level: sdk.ConsistencyLevelEnum.Strong,
    });
    check(response, 'search');
    return response.results.map((row) => ({
      chunkId: String(row['chunk_id'] ?? row.id),
      documentId: String(row['document_id']),
      score: row.score,
    }));
  }

  async close(): Promise<void> {
    const ready = this.ready;
    this.ready = undefined;
    if (!ready) return;
    const { client } = await ready.catch(() => ({ client: undefined }));
    await client?.closeConnection();
  }

  /** The client, once the collection exists and is loaded (created on first use). */
  private connect(): Promise<{ client: MilvusClient; sdk: MilvusSdk }> {
    this.ready ??= this.createCollection().catch((error: unknown) => {
      this.ready = undefined;
      throw error;
    });
    return this.ready;
  }

  private async createCollection(): Promise<{ client: MilvusClient; sdk: MilvusSdk }> {
    const sdk = await import('@zilliz/milvus2-sdk-node');
    const { DataType } = sdk;
    const { address, timeoutMs, token, username, password, database } = this.options;
    const client = new sdk.MilvusClient({
      address,
      timeout: timeoutMs ?? 30_000,
      ...(token ? { token } : {}),
      ...(username ? { username } : {}),
      ...(password ? { password } : {}),
      ...(database ? { database } : {}),
    });
    // The client starts connecting in its constructor; await that here so that
    // an unreachable server is this call's error, not an unhandled rejection.
    try {
      await client.connectPromise;
    } catch (error) {
      await client.closeConnection().catch(() => undefined);
      throw error;
    }
    const exists = await client.hasCollection({ collection_name: this.collection });
    if (exists.value) {
      await this.checkDimensions(client).catch(async (error: unknown) => {
        await client.closeConnection().catch(() => undefined);
        throw error;
      });
    } else {
      check(
        await client.createCollection({
          collection_name: this.collection,
          // The collection's default is what searches get: SDK 2.6.13 drops a search's own
          // ConsistencyLevelEnum.Strong (0, falsy) in favour of it, and would create it Bounded.
          consistency_level: 'Strong',
          fields: [
            { name: 'chunk_id', data_type: DataType.VarChar, is_primary_key: true, max_length: MAX_ID_LENGTH },
            { name: 'document_id', data_type: DataType.VarChar, max_length: MAX_ID_LENGTH },
            { name: 'organisation_id', data_type: DataType.VarChar, max_length: MAX_ID_LENGTH, is_partition_key: true },
            { name: 'vector', data_type: DataType.FloatVector, dim: this.dimensions },
          ],
        }),
        'createCollection',
      );
      check(
        await client.createIndex({
          collection_name: this.collection,
          field_name: 'vector',
          index_type: 'HNSW',
          metric_type: 'COSINE',
          params: { M: 16, efConstruction: 200 },
        }),
        'createIndex',
      );
    }
    check(await client.loadCollection({ collection_name: this.collection }), 'loadCollection');
    return { client, sdk };
  }

  /** A collection made for another embedder cannot take these vectors: say so once, naming the fix. */
  private async checkDimensions(client: MilvusClient): Promise<void> {
    const described = await client.describeCollection({ collection_name: this.collection });
    check(described, 'describeCollection');
    const field = described.schema.fields.find((candidate) => candidate.name === 'vector');
    const dim = Number(field?.type_params?.find((param) => param.key === 'dim')?.value ?? Number.NaN);
    if (dim !== this.dimensions) {
      throw new Error(
        `Milvus collection ${this.collection} holds vectors of ${dim} dimensions, but the embedder makes ${this.dimensions}: ` +
          'set MILVUS_COLLECTION to a collection for this embedder (created on first use), or VECTOR_DIMENSIONS to match',
      );
    }
  }
}

/** A string literal for a Milvus boolean expression. */
function quote(value: string): string {
  return JSON.stringify(value);
}

function checkId(id: string): void {
  if (id.length === 0 || id.length > MAX_ID_LENGTH) throw new RangeError(`ids must have 1-${MAX_ID_LENGTH} characters`);
}

interface MilvusStatus {
  status?: { error_code?: string | number; reason?: string };
  error_code?: string | number;
  reason?: string;
}

function check(response: MilvusStatus, operation: string): void {
  const status = response.status ?? response;
  const code = status.error_code;
  if (code !== undefined && code !== 'Success' && code !== 0) {
    throw new Error(`Milvus ${operation} failed: ${status.reason || String(code)}`);
  }
}
