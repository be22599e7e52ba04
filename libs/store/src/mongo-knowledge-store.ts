import type { Page } from '@ragstream/protocol';
import { isObjectId } from '@ragstream/protocol';
import { Binary, ObjectId } from 'bson';
import type { Collection, Filter, UpdateFilter } from 'mongodb';
import { MongoClient, MongoServerError } from 'mongodb';
import type { PageRequest } from './chat-store.ts';
import { assertObjectId } from './ids.ts';
import { assertChunkIndexes, nextError, nextProgress, ORGANISATION_TEXT_FIELDS, optionalText, utf8Bytes } from './knowledge-records.ts';
import type {
  ChunkRecord,
  DocumentFormat,
  DocumentInput,
  DocumentRecord,
  DocumentStatus,
  IndexChunk,
  IndexedDocument,
  KnowledgeStore,
  NewChunk,
  Organisation,
  OrganisationInput,
  SupportedLanguage,
} from './knowledge-store.ts';
import { DEFAULT_ORGANISATION_ID } from './knowledge-store.ts';
import { afterCursor, createIndexesOneByOne, DEFAULT_DB_NAME, DUPLICATE_KEY, dbNameFromUrl } from './mongo-queries.ts';
import { toPage } from './pagination.ts';

export interface MongoKnowledgeStoreOptions {
  url: string;
  /** Defaults to the database named in the URL path, else `ragstream`. */
  dbName?: string | undefined;
}

interface OrganisationDoc {
  _id: ObjectId;
  name: string;
  industry?: string;
  description?: string;
  tone?: string;
  defaultLanguage: SupportedLanguage;
  createdAt: Date;
  updatedAt: Date;
}

interface DocumentDoc {
  _id: ObjectId;
  organisationId: ObjectId;
  title: string;
  format: DocumentFormat;
  status: DocumentStatus;
  error?: string;
  progress: number;
  chunkCount: number;
  bytes: number;
  revision: number;
  /** The `document_contents` entry holding the current revision's text. */
  contentId: ObjectId;
  /** Which of the document's chunks are current: those written by the last successful replaceChunks. */
  chunkSet?: ObjectId;
  createdAt: Date;
  updatedAt: Date;
}

interface ContentDoc {
  _id: ObjectId;
  documentId: ObjectId;
  content: string;
}

interface ChunkDoc {
  _id: ObjectId;
  organisationId: ObjectId;
  documentId: ObjectId;
  chunkSet: ObjectId;
  index: number;
  text: string;
  heading?: string;
  language: SupportedLanguage;
  title: string;
  /** The chunk's embedding, float32 little-endian. */
  vector?: Binary;
}

interface IndexVersionDoc {
  /** The organisation's id. */
  _id: ObjectId;
  version: number;
}

/** Chunks as read for answers: without the vector, which only index rebuilds read. */
const WITHOUT_VECTOR = { projection: { vector: 0 } } as const;

/** A chunk set this old that is not its document's current one was left by a crashed writer. */
const ABANDONED_CHUNK_SET_MS = 60 * 60 * 1000;
/** How often getDocumentContent re-reads a document whose content was replaced under it. */
const CONTENT_READ_ATTEMPTS = 20;

/**
 * MongoDB adapter, without multi-document transactions (a standalone server has none).
 *
 * A document points at its current content (`contentId`) and its current chunks (`chunkSet`).
 * A writer first inserts the new content or chunks, then switches the pointer with one atomic
 * update (filtered by revision for chunks), then deletes exactly what the pointer used to name.
 * Reads only follow pointers, so they never see a half-written or half-deleted set; a failed
 * switch deletes what it inserted. Every superseded set is deleted by the writer that superseded it.
 */
export class MongoKnowledgeStore implements KnowledgeStore {
  readonly kind = 'mongodb';
  readonly dbName: string;
  readonly #client: MongoClient;
  readonly #organisations: Collection<OrganisationDoc>;
  readonly #documents: Collection<DocumentDoc>;
  readonly #contents: Collection<ContentDoc>;
  readonly #chunks: Collection<ChunkDoc>;
  readonly #indexVersions: Collection<IndexVersionDoc>;

  constructor(options: MongoKnowledgeStoreOptions) {
    // ignoreUndefined keeps absent optional fields absent rather than stored as null.
    this.#client = new MongoClient(options.url, { ignoreUndefined: true });
    this.dbName = options.dbName ?? dbNameFromUrl(options.url) ?? DEFAULT_DB_NAME;
    const db = this.#client.db(this.dbName);
    this.#organisations = db.collection<OrganisationDoc>('organisations');
    this.#documents = db.collection<DocumentDoc>('documents');
    this.#contents = db.collection<ContentDoc>('document_contents');
    this.#chunks = db.collection<ChunkDoc>('document_chunks');
    this.#indexVersions = db.collection<IndexVersionDoc>('index_versions');
  }

  async init(): Promise<void> {
    await this.#client.connect();
    await createIndexesOneByOne(this.#organisations, [{ key: { createdAt: 1, _id: 1 }, name: 'created' }]);
    await createIndexesOneByOne(this.#documents, [
      { key: { organisationId: 1, createdAt: 1, _id: 1 }, name: 'organisation_created' },
      { key: { organisationId: 1, status: 1 }, name: 'organisation_status' },
    ]);
    await createIndexesOneByOne(this.#contents, [{ key: { documentId: 1 }, name: 'document' }]);
    await createIndexesOneByOne(this.#chunks, [
      { key: { organisationId: 1, documentId: 1, index: 1 }, name: 'organisation_document_index' },
      { key: { chunkSet: 1 }, name: 'chunk_set' },
    ]);
  }

  async ping(): Promise<void> {
    await this.#client.db(this.dbName).command({ ping: 1 });
  }

  async close(): Promise<void> {
    await this.#client.close();
  }

  async ensureDefaultOrganisation(): Promise<Organisation> {
    const _id = new ObjectId(DEFAULT_ORGANISATION_ID);
    const now = new Date();
    try {
      await this.#organisations.updateOne(
        { _id },
        { $setOnInsert: { name: 'Default', defaultLanguage: 'en', createdAt: now, updatedAt: now } },
        { upsert: true },
      );
    } catch (error) {
      // Two racing upserts: the loser's insert clashes on _id, and the winner's document is there.
      if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) throw error;
    }
    const doc = await this.#organisations.findOne({ _id });
    if (!doc) throw new Error('organisations: the default organisation was not stored');
    return toOrganisation(doc);
  }

  async createOrganisation(input: OrganisationInput): Promise<Organisation> {
    const now = new Date();
    const doc: OrganisationDoc = {
      _id: new ObjectId(),
      name: input.name,
      industry: optionalText(input.industry),
      description: optionalText(input.description),
      tone: optionalText(input.tone),
      defaultLanguage: input.defaultLanguage ?? 'en',
      createdAt: now,
      updatedAt: now,
    };
    await this.#organisations.insertOne(doc);
    return toOrganisation(doc);
  }

  async getOrganisation(organisationId: string): Promise<Organisation | null> {
    if (!isObjectId(organisationId)) return null;
    const doc = await this.#organisations.findOne({ _id: new ObjectId(organisationId) });
    return doc ? toOrganisation(doc) : null;
  }

  async listOrganisations(page: PageRequest): Promise<Page<Organisation>> {
    const docs = await this.#organisations
      .find(afterCursor(page.cursor))
      .sort({ createdAt: 1, _id: 1 })
      .limit(page.limit + 1)
      .toArray();
    return toPage(docs.map(toOrganisation), page.limit);
  }

  async updateOrganisation(organisationId: string, patch: Partial<OrganisationInput>): Promise<Organisation | null> {
    if (!isObjectId(organisationId)) return null;
    const set: Partial<OrganisationDoc> = { updatedAt: new Date() };
    const unset: Partial<Record<keyof OrganisationDoc, ''>> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.defaultLanguage !== undefined) set.defaultLanguage = patch.defaultLanguage;
    for (const field of ORGANISATION_TEXT_FIELDS) {
      const value = patch[field];
      if (value === undefined) continue;
      const text = optionalText(value);
      if (text === undefined) unset[field] = '';
      else set[field] = text;
    }
    const update: UpdateFilter<OrganisationDoc> = { $set: set };
    if (Object.keys(unset).length > 0) update.$unset = unset;
    const doc = await this.#organisations.findOneAndUpdate({ _id: new ObjectId(organisationId) }, update, {
      returnDocument: 'after',
    });
    return doc ? toOrganisation(doc) : null;
  }

  async createDocument(input: DocumentInput): Promise<DocumentRecord> {
    assertObjectId('organisationId', input.organisationId);
    const now = new Date();
    const _id = new ObjectId();
    const contentId = new ObjectId();
    // Content first: a document never points at content that is not there.
    await this.#contents.insertOne({ _id: contentId, documentId: _id, content: input.content });
    const doc: DocumentDoc = {
      _id,
      organisationId: new ObjectId(input.organisationId),
      title: input.title,
      format: input.format,
      status: 'queued',
      progress: 0,
      chunkCount: 0,
      bytes: utf8Bytes(input.content),
      revision: 1,
      contentId,
      createdAt: now,
      updatedAt: now,
    };
    await this.#documents.insertOne(doc);
    return toDocument(doc);
  }

  async replaceDocumentContent(
    organisationId: string,
    documentId: string,
    input: Omit<DocumentInput, 'organisationId'>,
  ): Promise<DocumentRecord | null> {
    if (!isObjectId(organisationId) || !isObjectId(documentId)) return null;
    const filter = { _id: new ObjectId(documentId), organisationId: new ObjectId(organisationId) };
    if (!(await this.#documents.findOne(filter, { projection: { _id: 1 } }))) return null;

    const contentId = new ObjectId();
    await this.#contents.insertOne({ _id: contentId, documentId: filter._id, content: input.content });
    const set = {
      title: input.title,
      format: input.format,
      bytes: utf8Bytes(input.content),
      contentId,
      status: 'queued' as const,
      progress: 0,
      updatedAt: new Date(),
    };
    const before = await this.#documents.findOneAndUpdate(
      filter,
      { $set: set, $unset: { error: '' }, $inc: { revision: 1 } },
      { returnDocument: 'before' },
    );
    if (!before) {
      await this.#contents.deleteOne({ _id: contentId });
      return null;
    }
    await this.#contents.deleteOne({ _id: before.contentId });
    const { error: _error, ...kept } = before;
    return toDocument({ ...kept, ...set, revision: before.revision + 1 });
  }

  async getDocument(organisationId: string, documentId: string): Promise<DocumentRecord | null> {
    if (!isObjectId(organisationId) || !isObjectId(documentId)) return null;
    const doc = await this.#documents.findOne({
      _id: new ObjectId(documentId),
      organisationId: new ObjectId(organisationId),
    });
    return doc ? toDocument(doc) : null;
  }

  async getDocumentContent(documentId: string): Promise<{ content: string; revision: number } | null> {
    if (!isObjectId(documentId)) return null;
    const _id = new ObjectId(documentId);
    for (let attempt = 0; attempt < CONTENT_READ_ATTEMPTS; attempt++) {
      const doc = await this.#documents.findOne({ _id }, { projection: { contentId: 1, revision: 1 } });
      if (!doc) return null;
      const content = await this.#contents.findOne({ _id: doc.contentId });
      // Missing only when a newer upload replaced it between the two reads: read the document again.
      if (content) return { content: content.content, revision: doc.revision };
    }
    throw new Error(`document_contents: the content of ${documentId} kept changing while being read`);
  }

  async countDocuments(organisationId: string): Promise<number> {
    if (!isObjectId(organisationId)) return 0;
    return this.#documents.countDocuments({ organisationId: new ObjectId(organisationId) });
  }

  async listDocuments(organisationId: string, page: PageRequest): Promise<Page<DocumentRecord>> {
    const after = afterCursor(page.cursor);
    if (!isObjectId(organisationId)) return { items: [], nextCursor: null };
    const docs = await this.#documents
      .find({ organisationId: new ObjectId(organisationId), ...after })
      .sort({ createdAt: 1, _id: 1 })
      .limit(page.limit + 1)
      .toArray();
    return toPage(docs.map(toDocument), page.limit);
  }

  async updateDocumentStatus(
    documentId: string,
    revision: number,
    patch: { status: DocumentStatus; progress?: number; error?: string | undefined; chunkCount?: number },
  ): Promise<boolean> {
    if (!isObjectId(documentId)) return false;
    const set: Partial<DocumentDoc> = { status: patch.status, updatedAt: new Date() };
    const progress = nextProgress(patch.status, patch.progress);
    if (progress !== undefined) set.progress = progress;
    if (patch.chunkCount !== undefined) set.chunkCount = patch.chunkCount;
    const error = nextError(patch.status, patch.error);
    if (error !== undefined) set.error = error;
    const update: UpdateFilter<DocumentDoc> = error === undefined ? { $set: set, $unset: { error: '' } } : { $set: set };
    const { matchedCount } = await this.#documents.updateOne({ _id: new ObjectId(documentId), revision }, update);
    return matchedCount > 0;
  }

  async deleteDocument(organisationId: string, documentId: string): Promise<boolean> {
    if (!isObjectId(organisationId) || !isObjectId(documentId)) return false;
    const organisation = new ObjectId(organisationId);
    const document = new ObjectId(documentId);
    const deleted = await this.#documents.findOneAndDelete({ _id: document, organisationId: organisation });
    if (!deleted) return false;
    // Nothing points at these any more, so readers stopped seeing them with the delete above.
    await Promise.all([
      this.#bumpIndexVersion(organisation),
      this.#chunks.deleteMany({ organisationId: organisation, documentId: document }),
      this.#contents.deleteMany({ documentId: document }),
    ]);
    return true;
  }

  async replaceChunks(documentId: string, revision: number, chunks: NewChunk[]): Promise<ChunkRecord[] | null> {
    assertChunkIndexes(chunks);
    if (!isObjectId(documentId)) return null;
    const _id = new ObjectId(documentId);
    const document = await this.#documents.findOne({ _id, revision }, { projection: { organisationId: 1, title: 1 } });
    if (!document) return null;

    const chunkSet = new ObjectId();
    const docs = chunks.map(
      (chunk): ChunkDoc => ({
        _id: new ObjectId(),
        organisationId: document.organisationId,
        documentId: _id,
        chunkSet,
        index: chunk.index,
        text: chunk.text,
        heading: chunk.heading,
        language: chunk.language,
        title: document.title,
        vector: chunk.vector ? new Binary(Buffer.from(chunk.vector.buffer, chunk.vector.byteOffset, chunk.vector.byteLength)) : undefined,
      }),
    );
    if (docs.length > 0) await this.#chunks.insertMany(docs, { ordered: false });

    const before = await this.#documents.findOneAndUpdate(
      { _id, revision },
      { $set: { chunkSet, chunkCount: docs.length, updatedAt: new Date() } },
      // No projection: FerretDB 1.24's findAndModify has no `fields`, and the document is small.
      { returnDocument: 'before' },
    );
    if (!before) {
      // Deleted or re-uploaded meanwhile: these chunks never became visible.
      await this.#chunks.deleteMany({ chunkSet });
      return null;
    }
    // The new set is what readers see now: indexes built from the store must catch up.
    await this.#bumpIndexVersion(document.organisationId);
    if (before.chunkSet) await this.#chunks.deleteMany({ chunkSet: before.chunkSet });
    await this.#chunks.deleteMany({
      organisationId: document.organisationId,
      documentId: _id,
      chunkSet: { $ne: chunkSet, $lt: ObjectId.createFromTime(Math.floor((Date.now() - ABANDONED_CHUNK_SET_MS) / 1000)) },
    });
    return docs.map(toChunk);
  }

  async getChunks(chunkIds: string[]): Promise<ChunkRecord[]> {
    const ids = [...new Set(chunkIds.filter(isObjectId))];
    if (ids.length === 0) return [];
    const found = await this.#chunks.find({ _id: { $in: ids.map((id) => new ObjectId(id)) } }, WITHOUT_VECTOR).toArray();
    if (found.length === 0) return [];
    const current = await this.#currentChunkSets({
      _id: { $in: [...new Map(found.map((chunk) => [chunk.documentId.toHexString(), chunk.documentId])).values()] },
    });
    const byId = new Map(
      found.filter((chunk) => current.has(chunk.chunkSet.toHexString())).map((chunk) => [chunk._id.toHexString(), toChunk(chunk)]),
    );
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async listOrganisationChunks(organisationId: string): Promise<ChunkRecord[]> {
    if (!isObjectId(organisationId)) return [];
    const organisation = new ObjectId(organisationId);
    const current = await this.#currentChunkSets({ organisationId: organisation });
    if (current.size === 0) return [];
    const docs = await this.#chunks
      .find({ organisationId: organisation, chunkSet: { $in: [...current.values()] } }, WITHOUT_VECTOR)
      .sort({ documentId: 1, index: 1 })
      .toArray();
    return docs.map(toChunk);
  }

  async getIndexVersion(organisationId: string): Promise<number> {
    if (!isObjectId(organisationId)) return 0;
    return (await this.#indexVersions.findOne({ _id: new ObjectId(organisationId) }))?.version ?? 0;
  }

  async listIndexedDocuments(organisationId: string): Promise<IndexedDocument[]> {
    if (!isObjectId(organisationId)) return [];
    const docs = await this.#documents
      .find({ organisationId: new ObjectId(organisationId), chunkSet: { $exists: true } }, { projection: { chunkSet: 1 } })
      .sort({ _id: 1 })
      .toArray();
    return docs.flatMap((doc) => (doc.chunkSet ? [{ documentId: doc._id.toHexString(), chunkSet: doc.chunkSet.toHexString() }] : []));
  }

  async getIndexChunks(organisationId: string, documentIds: readonly string[]): Promise<IndexChunk[]> {
    const ids = [...new Set(documentIds.filter(isObjectId))];
    if (!isObjectId(organisationId) || ids.length === 0) return [];
    const organisation = new ObjectId(organisationId);
    const current = await this.#currentChunkSets({ organisationId: organisation, _id: { $in: ids.map((id) => new ObjectId(id)) } });
    if (current.size === 0) return [];
    const docs = await this.#chunks
      .find({ organisationId: organisation, chunkSet: { $in: [...current.values()] } })
      .sort({ documentId: 1, index: 1 })
      .toArray();
    return docs.map((doc) => {
      const chunk: IndexChunk = {
        chunkId: doc._id.toHexString(),
        documentId: doc.documentId.toHexString(),
        text: doc.text,
        title: doc.title,
      };
      if (doc.heading !== undefined) chunk.heading = doc.heading;
      // Copied: the driver's Buffer may not be 4-byte aligned.
      if (doc.vector !== undefined) chunk.vector = new Float32Array(new Uint8Array(doc.vector.value()).buffer);
      return chunk;
    });
  }

  /** One more on the organisation's index version (created at 1). */
  async #bumpIndexVersion(organisationId: ObjectId): Promise<void> {
    const bump = () => this.#indexVersions.updateOne({ _id: organisationId }, { $inc: { version: 1 } }, { upsert: true });
    try {
      await bump();
    } catch (error) {
      // Two first bumps raced: the loser's insert clashed on _id; the document exists now.
      if (!(error instanceof MongoServerError) || error.code !== DUPLICATE_KEY) throw error;
      await bump();
    }
  }

  /** The current chunk sets of the documents `filter` matches, by hex id. */
  async #currentChunkSets(filter: Filter<DocumentDoc>): Promise<Map<string, ObjectId>> {
    const docs = await this.#documents.find(filter, { projection: { chunkSet: 1 } }).toArray();
    const sets = new Map<string, ObjectId>();
    for (const { chunkSet } of docs) if (chunkSet) sets.set(chunkSet.toHexString(), chunkSet);
    return sets;
  }
}

function toOrganisation(doc: OrganisationDoc): Organisation {
  const organisation: Organisation = {
    id: doc._id.toHexString(),
    name: doc.name,
    defaultLanguage: doc.defaultLanguage,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
  for (const field of ORGANISATION_TEXT_FIELDS) {
    const value = doc[field];
    if (value !== undefined) organisation[field] = value;
  }
  return organisation;
}

function toDocument(doc: DocumentDoc): DocumentRecord {
  const document: DocumentRecord = {
    id: doc._id.toHexString(),
    organisationId: doc.organisationId.toHexString(),
    title: doc.title,
    format: doc.format,
    status: doc.status,
    progress: doc.progress,
    chunkCount: doc.chunkCount,
    bytes: doc.bytes,
    revision: doc.revision,
    createdAt: doc.createdAt.toISOString(),
    updatedAt: doc.updatedAt.toISOString(),
  };
  if (doc.error !== undefined) document.error = doc.error;
  return document;
}

function toChunk(doc: ChunkDoc): ChunkRecord {
  const chunk: ChunkRecord = {
    id: doc._id.toHexString(),
    organisationId: doc.organisationId.toHexString(),
    documentId: doc.documentId.toHexString(),
    index: doc.index,
    text: doc.text,
    language: doc.language,
    title: doc.title,
  };
  if (doc.heading !== undefined) chunk.heading = doc.heading;
  return chunk;
}
