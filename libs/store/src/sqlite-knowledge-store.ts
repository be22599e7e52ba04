import type { Page } from '@ragstream/protocol';
import { isObjectId } from '@ragstream/protocol';
import type Database from 'better-sqlite3';
import { ObjectId } from 'bson';
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
import type { Position } from './pagination.ts';
import { decodeCursor, toPage } from './pagination.ts';
import { openSqliteDatabase } from './sqlite-database.ts';

export interface SqliteKnowledgeStoreOptions {
  filename: string;
}

interface OrganisationRow {
  id: string;
  name: string;
  industry: string | null;
  description: string | null;
  tone: string | null;
  default_language: SupportedLanguage;
  created_at: number;
  updated_at: number;
}

interface DocumentRow {
  id: string;
  organisation_id: string;
  title: string;
  format: DocumentFormat;
  status: DocumentStatus;
  error: string | null;
  progress: number;
  chunk_count: number;
  bytes: number;
  revision: number;
  created_at: number;
  updated_at: number;
}

interface ChunkRow {
  id: string;
  organisation_id: string;
  document_id: string;
  chunk_index: number;
  text: string;
  heading: string | null;
  language: SupportedLanguage;
  title: string;
}

interface IndexChunkRow {
  id: string;
  document_id: string;
  text: string;
  heading: string | null;
  title: string;
  vector: Buffer | null;
}

interface StatusUpdate {
  id: string;
  revision: number;
  status: DocumentStatus;
  progress: number | null;
  error: string | null;
  chunk_count: number | null;
  updated_at: number;
}

interface ContentReplacement {
  id: string;
  organisation_id: string;
  title: string;
  format: DocumentFormat;
  bytes: number;
  updated_at: number;
}

const SCHEMA = `
  CREATE TABLE IF NOT EXISTS organisations (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    industry TEXT,
    description TEXT,
    tone TEXT,
    default_language TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS organisations_created ON organisations (created_at, id);

  CREATE TABLE IF NOT EXISTS documents (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    title TEXT NOT NULL,
    format TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    progress REAL NOT NULL,
    chunk_count INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    revision INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX IF NOT EXISTS documents_organisation_created ON documents (organisation_id, created_at, id);
  CREATE INDEX IF NOT EXISTS documents_organisation_status ON documents (organisation_id, status, id);

  CREATE TABLE IF NOT EXISTS document_contents (
    document_id TEXT PRIMARY KEY,
    content TEXT NOT NULL
  );

  CREATE TABLE IF NOT EXISTS document_chunks (
    id TEXT PRIMARY KEY,
    organisation_id TEXT NOT NULL,
    document_id TEXT NOT NULL,
    chunk_index INTEGER NOT NULL,
    text TEXT NOT NULL,
    heading TEXT,
    language TEXT NOT NULL,
    title TEXT NOT NULL
  );
  CREATE UNIQUE INDEX IF NOT EXISTS document_chunks_document_index ON document_chunks (document_id, chunk_index);

  CREATE TABLE IF NOT EXISTS index_versions (
    organisation_id TEXT PRIMARY KEY,
    version INTEGER NOT NULL
  );
`;

/** Columns added after the first release, added to older files by init(). */
const ADDED_COLUMNS: readonly { table: string; column: string; type: string }[] = [
  // Which set of chunks is current: a new id with every replaceChunks.
  { table: 'documents', column: 'chunk_set', type: 'TEXT' },
  // The chunk's embedding, float32 little-endian.
  { table: 'document_chunks', column: 'vector', type: 'BLOB' },
];

/** Chunk columns without the vector, which only index rebuilds read. */
const CHUNK_COLUMNS = 'id, organisation_id, document_id, chunk_index, text, heading, language, title';

/** Sorts before every real (createdAt, id), so the first page needs no separate query. */
const START: Position = { createdAt: Number.MIN_SAFE_INTEGER, id: '' };

function prepareStatements(db: Database.Database) {
  return {
    insertOrganisation: db.prepare<[OrganisationRow]>(
      `INSERT INTO organisations (id, name, industry, description, tone, default_language, created_at, updated_at)
       VALUES (@id, @name, @industry, @description, @tone, @default_language, @created_at, @updated_at)
       ON CONFLICT (id) DO NOTHING`,
    ),
    getOrganisation: db.prepare<[string], OrganisationRow>('SELECT * FROM organisations WHERE id = ?'),
    listOrganisations: db.prepare<[number, string, number], OrganisationRow>(
      `SELECT * FROM organisations WHERE (created_at, id) > (?, ?) ORDER BY created_at, id LIMIT ?`,
    ),
    updateOrganisation: db.prepare<[OrganisationRow], OrganisationRow>(
      `UPDATE organisations
       SET name = @name, industry = @industry, description = @description, tone = @tone,
           default_language = @default_language, updated_at = @updated_at
       WHERE id = @id RETURNING *`,
    ),

    insertDocument: db.prepare<[DocumentRow]>(
      `INSERT INTO documents
         (id, organisation_id, title, format, status, error, progress, chunk_count, bytes, revision, created_at, updated_at)
       VALUES
         (@id, @organisation_id, @title, @format, @status, @error, @progress, @chunk_count, @bytes, @revision,
          @created_at, @updated_at)`,
    ),
    getDocument: db.prepare<[string, string], DocumentRow>('SELECT * FROM documents WHERE id = ? AND organisation_id = ?'),
    getDocumentById: db.prepare<[string], DocumentRow>('SELECT * FROM documents WHERE id = ?'),
    countDocuments: db.prepare<[string], { count: number }>('SELECT COUNT(*) AS count FROM documents WHERE organisation_id = ?'),
    listDocuments: db.prepare<[string, number, string, number], DocumentRow>(
      `SELECT * FROM documents WHERE organisation_id = ? AND (created_at, id) > (?, ?)
       ORDER BY created_at, id LIMIT ?`,
    ),
    replaceDocument: db.prepare<[ContentReplacement], DocumentRow>(
      `UPDATE documents
       SET title = @title, format = @format, bytes = @bytes, revision = revision + 1,
           status = 'queued', progress = 0, error = NULL, updated_at = @updated_at
       WHERE id = @id AND organisation_id = @organisation_id RETURNING *`,
    ),
    updateStatus: db.prepare<[StatusUpdate]>(
      `UPDATE documents
       SET status = @status, progress = COALESCE(@progress, progress), error = @error,
           chunk_count = COALESCE(@chunk_count, chunk_count), updated_at = @updated_at
       WHERE id = @id AND revision = @revision`,
    ),
    setChunks: db.prepare<[number, string, number, string]>(
      'UPDATE documents SET chunk_count = ?, chunk_set = ?, updated_at = ? WHERE id = ?',
    ),
    deleteDocument: db.prepare<[string, string]>('DELETE FROM documents WHERE id = ? AND organisation_id = ?'),

    putContent: db.prepare<[string, string]>(
      `INSERT INTO document_contents (document_id, content) VALUES (?, ?)
       ON CONFLICT (document_id) DO UPDATE SET content = excluded.content`,
    ),
    // One statement, so the content and the revision come from the same snapshot.
    getContent: db.prepare<[string], { content: string; revision: number }>(
      `SELECT c.content, d.revision FROM documents d JOIN document_contents c ON c.document_id = d.id
       WHERE d.id = ?`,
    ),
    deleteContent: db.prepare<[string]>('DELETE FROM document_contents WHERE document_id = ?'),

    insertChunk: db.prepare<[ChunkRow & { vector: Buffer | null }]>(
      `INSERT INTO document_chunks (id, organisation_id, document_id, chunk_index, text, heading, language, title, vector)
       VALUES (@id, @organisation_id, @document_id, @chunk_index, @text, @heading, @language, @title, @vector)`,
    ),
    deleteChunks: db.prepare<[string]>('DELETE FROM document_chunks WHERE document_id = ?'),
    getChunks: db.prepare<[string], ChunkRow>(`SELECT ${CHUNK_COLUMNS} FROM document_chunks WHERE id IN (SELECT value FROM json_each(?))`),
    organisationChunks: db.prepare<[string], ChunkRow>(
      // Walks the organisation's documents' ids in order, each one's chunks by index: no sorting step.
      `SELECT ${CHUNK_COLUMNS} FROM document_chunks
       WHERE document_id IN (SELECT id FROM documents WHERE organisation_id = ?)
       ORDER BY document_id, chunk_index`,
    ),

    bumpIndexVersion: db.prepare<[string]>(
      `INSERT INTO index_versions (organisation_id, version) VALUES (?, 1)
       ON CONFLICT (organisation_id) DO UPDATE SET version = version + 1`,
    ),
    getIndexVersion: db.prepare<[string], { version: number }>('SELECT version FROM index_versions WHERE organisation_id = ?'),
    indexedDocuments: db.prepare<[string], { id: string; chunk_set: string }>(
      'SELECT id, chunk_set FROM documents WHERE organisation_id = ? AND chunk_set IS NOT NULL ORDER BY id',
    ),
    indexChunks: db.prepare<[string, string], IndexChunkRow>(
      `SELECT id, document_id, text, heading, title, vector FROM document_chunks
       WHERE organisation_id = ? AND document_id IN (SELECT value FROM json_each(?))
       ORDER BY document_id, chunk_index`,
    ),
  };
}

type Statements = ReturnType<typeof prepareStatements>;

/**
 * SQLite adapter, on the same file as the chat store if wanted. WAL plus a busy timeout lets
 * API nodes and workers on one host share it; every read-then-write runs in an IMMEDIATE
 * transaction, so revision checks hold across processes.
 */
export class SqliteKnowledgeStore implements KnowledgeStore {
  readonly kind = 'sqlite';
  readonly #db: Database.Database;
  #statements: Statements | undefined;

  constructor(options: SqliteKnowledgeStoreOptions) {
    this.#db = openSqliteDatabase(options.filename);
  }

  async init(): Promise<void> {
    this.#db
      .transaction(() => {
        this.#db.exec(SCHEMA);
        addMissingColumns(this.#db);
      })
      .immediate();
    this.#statements ??= prepareStatements(this.#db);
  }

  async ping(): Promise<void> {
    this.#db.prepare('SELECT 1').get();
  }

  async close(): Promise<void> {
    this.#db.close();
  }

  async ensureDefaultOrganisation(): Promise<Organisation> {
    const q = this.#q;
    const now = Date.now();
    return this.#db
      .transaction(() => {
        q.insertOrganisation.run({
          id: DEFAULT_ORGANISATION_ID,
          name: 'Default',
          industry: null,
          description: null,
          tone: null,
          default_language: 'en',
          created_at: now,
          updated_at: now,
        });
        const row = q.getOrganisation.get(DEFAULT_ORGANISATION_ID);
        if (!row) throw new Error('organisations: the default organisation was not stored');
        return toOrganisation(row);
      })
      .immediate();
  }

  async createOrganisation(input: OrganisationInput): Promise<Organisation> {
    const now = Date.now();
    const row: OrganisationRow = {
      id: new ObjectId().toHexString(),
      name: input.name,
      industry: optionalText(input.industry) ?? null,
      description: optionalText(input.description) ?? null,
      tone: optionalText(input.tone) ?? null,
      default_language: input.defaultLanguage ?? 'en',
      created_at: now,
      updated_at: now,
    };
    this.#q.insertOrganisation.run(row);
    return toOrganisation(row);
  }

  async getOrganisation(organisationId: string): Promise<Organisation | null> {
    if (!isObjectId(organisationId)) return null;
    const row = this.#q.getOrganisation.get(organisationId);
    return row ? toOrganisation(row) : null;
  }

  async listOrganisations(page: PageRequest): Promise<Page<Organisation>> {
    const after = page.cursor === undefined ? START : decodeCursor(page.cursor);
    const rows = this.#q.listOrganisations.all(after.createdAt, after.id, page.limit + 1);
    return toPage(rows.map(toOrganisation), page.limit);
  }

  async updateOrganisation(organisationId: string, patch: Partial<OrganisationInput>): Promise<Organisation | null> {
    if (!isObjectId(organisationId)) return null;
    const q = this.#q;
    return this.#db
      .transaction((): Organisation | null => {
        const row = q.getOrganisation.get(organisationId);
        if (!row) return null;
        const next: OrganisationRow = { ...row, updated_at: Date.now() };
        if (patch.name !== undefined) next.name = patch.name;
        if (patch.defaultLanguage !== undefined) next.default_language = patch.defaultLanguage;
        for (const field of ORGANISATION_TEXT_FIELDS) {
          const value = patch[field];
          if (value !== undefined) next[field] = optionalText(value) ?? null;
        }
        const updated = q.updateOrganisation.get(next);
        return updated ? toOrganisation(updated) : null;
      })
      .immediate();
  }

  async createDocument(input: DocumentInput): Promise<DocumentRecord> {
    assertObjectId('organisationId', input.organisationId);
    const now = Date.now();
    const row: DocumentRow = {
      id: new ObjectId().toHexString(),
      organisation_id: input.organisationId,
      title: input.title,
      format: input.format,
      status: 'queued',
      error: null,
      progress: 0,
      chunk_count: 0,
      bytes: utf8Bytes(input.content),
      revision: 1,
      created_at: now,
      updated_at: now,
    };
    const q = this.#q;
    this.#db
      .transaction(() => {
        q.insertDocument.run(row);
        q.putContent.run(row.id, input.content);
      })
      .immediate();
    return toDocument(row);
  }

  async replaceDocumentContent(
    organisationId: string,
    documentId: string,
    input: Omit<DocumentInput, 'organisationId'>,
  ): Promise<DocumentRecord | null> {
    if (!isObjectId(organisationId) || !isObjectId(documentId)) return null;
    const q = this.#q;
    return this.#db
      .transaction((): DocumentRecord | null => {
        const row = q.replaceDocument.get({
          id: documentId,
          organisation_id: organisationId,
          title: input.title,
          format: input.format,
          bytes: utf8Bytes(input.content),
          updated_at: Date.now(),
        });
        if (!row) return null;
        q.putContent.run(documentId, input.content);
        return toDocument(row);
      })
      .immediate();
  }

  async getDocument(organisationId: string, documentId: string): Promise<DocumentRecord | null> {
    if (!isObjectId(organisationId) || !isObjectId(documentId)) return null;
    const row = this.#q.getDocument.get(documentId, organisationId);
    return row ? toDocument(row) : null;
  }

  async getDocumentContent(documentId: string): Promise<{ content: string; revision: number } | null> {
    if (!isObjectId(documentId)) return null;
    const row = this.#q.getContent.get(documentId);
    return row ? { content: row.content, revision: row.revision } : null;
  }

  async listDocuments(organisationId: string, page: PageRequest): Promise<Page<DocumentRecord>> {
    const after = page.cursor === undefined ? START : decodeCursor(page.cursor);
    if (!isObjectId(organisationId)) return { items: [], nextCursor: null };
    const rows = this.#q.listDocuments.all(organisationId, after.createdAt, after.id, page.limit + 1);
    return toPage(rows.map(toDocument), page.limit);
  }

  async countDocuments(organisationId: string): Promise<number> {
    if (!isObjectId(organisationId)) return 0;
    return this.#q.countDocuments.get(organisationId)?.count ?? 0;
  }

  async updateDocumentStatus(
    documentId: string,
    revision: number,
    patch: { status: DocumentStatus; progress?: number; error?: string | undefined; chunkCount?: number },
  ): Promise<boolean> {
    if (!isObjectId(documentId)) return false;
    const result = this.#q.updateStatus.run({
      id: documentId,
      revision,
      status: patch.status,
      progress: nextProgress(patch.status, patch.progress) ?? null,
      error: nextError(patch.status, patch.error) ?? null,
      chunk_count: patch.chunkCount ?? null,
      updated_at: Date.now(),
    });
    return result.changes > 0;
  }

  async deleteDocument(organisationId: string, documentId: string): Promise<boolean> {
    if (!isObjectId(organisationId) || !isObjectId(documentId)) return false;
    const q = this.#q;
    return this.#db
      .transaction(() => {
        if (q.deleteDocument.run(documentId, organisationId).changes === 0) return false;
        q.deleteChunks.run(documentId);
        q.deleteContent.run(documentId);
        q.bumpIndexVersion.run(organisationId);
        return true;
      })
      .immediate();
  }

  async replaceChunks(documentId: string, revision: number, chunks: NewChunk[]): Promise<ChunkRecord[] | null> {
    assertChunkIndexes(chunks);
    if (!isObjectId(documentId)) return null;
    const q = this.#q;
    return this.#db
      .transaction((): ChunkRecord[] | null => {
        const document = q.getDocumentById.get(documentId);
        if (!document || document.revision !== revision) return null;
        q.deleteChunks.run(documentId);
        const rows = chunks.map(
          (chunk): ChunkRow => ({
            id: new ObjectId().toHexString(),
            organisation_id: document.organisation_id,
            document_id: documentId,
            chunk_index: chunk.index,
            text: chunk.text,
            heading: chunk.heading ?? null,
            language: chunk.language,
            title: document.title,
          }),
        );
        rows.forEach((row, i) => {
          q.insertChunk.run({ ...row, vector: vectorBytes(chunks[i]?.vector) });
        });
        q.setChunks.run(rows.length, new ObjectId().toHexString(), Date.now(), documentId);
        q.bumpIndexVersion.run(document.organisation_id);
        return rows.map(toChunk);
      })
      .immediate();
  }

  async getChunks(chunkIds: string[]): Promise<ChunkRecord[]> {
    const ids = [...new Set(chunkIds.filter(isObjectId))];
    if (ids.length === 0) return [];
    const byId = new Map(this.#q.getChunks.all(JSON.stringify(ids)).map((row) => [row.id, toChunk(row)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  async listOrganisationChunks(organisationId: string): Promise<ChunkRecord[]> {
    if (!isObjectId(organisationId)) return [];
    return this.#q.organisationChunks.all(organisationId).map(toChunk);
  }

  async getIndexVersion(organisationId: string): Promise<number> {
    if (!isObjectId(organisationId)) return 0;
    return this.#q.getIndexVersion.get(organisationId)?.version ?? 0;
  }

  async listIndexedDocuments(organisationId: string): Promise<IndexedDocument[]> {
    if (!isObjectId(organisationId)) return [];
    return this.#q.indexedDocuments.all(organisationId).map((row) => ({ documentId: row.id, chunkSet: row.chunk_set }));
  }

  async getIndexChunks(organisationId: string, documentIds: readonly string[]): Promise<IndexChunk[]> {
    const ids = [...new Set(documentIds.filter(isObjectId))];
    if (!isObjectId(organisationId) || ids.length === 0) return [];
    return this.#q.indexChunks.all(organisationId, JSON.stringify(ids)).map((row) => {
      const chunk: IndexChunk = { chunkId: row.id, documentId: row.document_id, text: row.text, title: row.title };
      if (row.heading !== null) chunk.heading = row.heading;
      if (row.vector !== null) chunk.vector = vectorFromBytes(row.vector);
      return chunk;
    });
  }

  get #q(): Statements {
    if (!this.#statements) throw new Error('SqliteKnowledgeStore: call init() before using the store');
    return this.#statements;
  }
}

function addMissingColumns(db: Database.Database): void {
  for (const { table, column, type } of ADDED_COLUMNS) {
    const columns = db.prepare<[], { name: string }>(`PRAGMA table_info(${table})`).all();
    if (columns.some((existing) => existing.name === column)) continue;
    db.exec(`ALTER TABLE ${table} ADD COLUMN ${column} ${type}`);
    // Chunks written before chunk sets existed form one set, so that they are indexed.
    if (column === 'chunk_set') db.exec(`UPDATE documents SET chunk_set = id WHERE id IN (SELECT document_id FROM document_chunks)`);
  }
}

function vectorBytes(vector: Float32Array | undefined): Buffer | null {
  return vector ? Buffer.from(vector.buffer, vector.byteOffset, vector.byteLength) : null;
}

function vectorFromBytes(bytes: Buffer): Float32Array {
  // Copied: the Buffer's memory may not be 4-byte aligned.
  return new Float32Array(new Uint8Array(bytes).buffer);
}

function toOrganisation(row: OrganisationRow): Organisation {
  const organisation: Organisation = {
    id: row.id,
    name: row.name,
    defaultLanguage: row.default_language,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  for (const field of ORGANISATION_TEXT_FIELDS) {
    const value = row[field];
    if (value !== null) organisation[field] = value;
  }
  return organisation;
}

function toDocument(row: DocumentRow): DocumentRecord {
  const document: DocumentRecord = {
    id: row.id,
    organisationId: row.organisation_id,
    title: row.title,
    format: row.format,
    status: row.status,
    progress: row.progress,
    chunkCount: row.chunk_count,
    bytes: row.bytes,
    revision: row.revision,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
  if (row.error !== null) document.error = row.error;
  return document;
}

function toChunk(row: ChunkRow): ChunkRecord {
  const chunk: ChunkRecord = {
    id: row.id,
    organisationId: row.organisation_id,
    documentId: row.document_id,
    index: row.chunk_index,
    text: row.text,
    language: row.language,
    title: row.title,
  };
  if (row.heading !== null) chunk.heading = row.heading;
  return chunk;
}
