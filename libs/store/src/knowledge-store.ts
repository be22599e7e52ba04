import type { Page } from '@ragstream/protocol';
import type { PageRequest } from './chat-store.ts';

export const DEFAULT_ORGANISATION_ID = '000000000000000000000001';

export type SupportedLanguage = 'en' | 'hi';
export type DocumentFormat = 'text' | 'markdown' | 'html' | 'pdf';
export type DocumentStatus = 'queued' | 'processing' | 'ready' | 'failed';

export interface Organisation {
  id: string;
  name: string;
  industry?: string;
  description?: string;
  tone?: string;
  defaultLanguage: SupportedLanguage;
  createdAt: string;
  updatedAt: string;
}

export interface OrganisationInput {
  name: string;
  industry?: string | undefined;
  description?: string | undefined;
  tone?: string | undefined;
  defaultLanguage?: SupportedLanguage | undefined;
}

export interface DocumentRecord {
  id: string;
  organisationId: string;
  title: string;
  format: DocumentFormat;
  status: DocumentStatus;
  /** Why ingestion failed, when status is 'failed'. */
  error?: string;
  /** 0..100 while processing. */
  progress: number;
  chunkCount: number;
  bytes: number;
  /** Grows with every upload of new content, so that a stale ingestion job can tell it is stale. */
  revision: number;
  createdAt: string;
  updatedAt: string;
}

export interface DocumentInput {
  organisationId: string;
  title: string;
  format: DocumentFormat;
  /** Extracted plain text for pdf; the raw text otherwise. */
  content: string;
}

export interface ChunkRecord {
  id: string;
  organisationId: string;
  documentId: string;
  index: number;
  text: string;
  heading?: string;
  language: SupportedLanguage;
  /** The document's title, copied so that a search hit needs no second lookup. */
  title: string;
}

export type NewChunk = Omit<ChunkRecord, 'id' | 'organisationId' | 'documentId' | 'title'> & {
  /** The chunk's embedding, kept with it so that any worker can rebuild its vector index from the store. */
  vector?: Float32Array;
};

/** A document whose chunks are searchable, and which set of chunks is current. */
export interface IndexedDocument {
  documentId: string;
  /** Changes whenever the document's chunks are replaced: a cached index holding another one is stale. */
  chunkSet: string;
}

/** What a worker's search index holds of a chunk. */
export interface IndexChunk {
  chunkId: string;
  documentId: string;
  text: string;
  heading?: string;
  title: string;
  /** Absent when the chunk was stored without one. */
  vector?: Float32Array;
}

/**
 * Organisations, their documents and the documents' chunks (collections
 * `organisations`, `documents`, `document_chunks`). Unknown or malformed ids read as absent.
 */
export interface KnowledgeStore {
  readonly kind: string;
  init(): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;

  /** Creates the default organisation (DEFAULT_ORGANISATION_ID, name "Default") if missing. */
  ensureDefaultOrganisation(): Promise<Organisation>;
  /** defaultLanguage defaults to 'en'; an empty industry, description or tone is left out. */
  createOrganisation(input: OrganisationInput): Promise<Organisation>;
  getOrganisation(organisationId: string): Promise<Organisation | null>;
  listOrganisations(page: PageRequest): Promise<Page<Organisation>>;
  /** Fields absent (or undefined) in `patch` keep their value; an empty industry, description or tone clears it. */
  updateOrganisation(organisationId: string, patch: Partial<OrganisationInput>): Promise<Organisation | null>;

  /**
   * Queued, progress 0, revision 1. A malformed organisationId is refused (TypeError); that the
   * organisation exists is the caller's check.
   */
  createDocument(input: DocumentInput): Promise<DocumentRecord>;
  /**
   * New content for an existing document: bumps its revision and sets it back to queued (progress 0,
   * no error). Its chunks stay until replaceChunks replaces them for the new revision.
   */
  replaceDocumentContent(
    organisationId: string,
    documentId: string,
    input: Omit<DocumentInput, 'organisationId'>,
  ): Promise<DocumentRecord | null>;
  getDocument(organisationId: string, documentId: string): Promise<DocumentRecord | null>;
  /** The current content and the revision it belongs to. */
  getDocumentContent(documentId: string): Promise<{ content: string; revision: number } | null>;
  listDocuments(organisationId: string, page: PageRequest): Promise<Page<DocumentRecord>>;
  /** How many documents the organisation has (0 for an unknown or malformed id). */
  countDocuments(organisationId: string): Promise<number>;
  /**
   * False when the document is gone or `revision` is no longer its revision. `progress` is kept within
   * 0..100; without one, ready sets 100, queued 0, and other statuses keep it. Only a failed document
   * has an `error`: any other status clears it. `chunkCount` is kept unless given.
   */
  updateDocumentStatus(
    documentId: string,
    revision: number,
    patch: { status: DocumentStatus; progress?: number; error?: string | undefined; chunkCount?: number },
  ): Promise<boolean>;
  /** Deletes the document and its chunks; false when it did not exist. */
  deleteDocument(organisationId: string, documentId: string): Promise<boolean>;

  /**
   * Replaces all chunks of a document atomically, only if `revision` is still the document's revision
   * (else null), and sets its chunkCount. The chunks get new ids every time. Throws a RangeError, writing
   * nothing, when an index is negative, not an integer or repeated.
   */
  replaceChunks(documentId: string, revision: number, chunks: NewChunk[]): Promise<ChunkRecord[] | null>;
  /** The current chunks among `chunkIds`, in the order asked, each once; unknown or malformed ids are skipped. */
  getChunks(chunkIds: string[]): Promise<ChunkRecord[]>;
  /**
   * Every current chunk of the organisation's documents, whatever their status, for rebuilding its
   * keyword index, by (documentId, index): chunks are committed by `replaceChunks`, and a document
   * being re-ingested stays searchable with its previous chunks until they are replaced.
   */
  listOrganisationChunks(organisationId: string): Promise<ChunkRecord[]>;

  /**
   * The organisation's index version: 0 until its searchable chunks first change, then one more
   * with every change (a replaceChunks that was not refused, a deleteDocument that deleted). A
   * worker's in-memory search index is a cache of the store, valid while this number stands still.
   */
  getIndexVersion(organisationId: string): Promise<number>;
  /** The organisation's documents that have had chunks written, with their current chunk set. */
  listIndexedDocuments(organisationId: string): Promise<IndexedDocument[]>;
  /** The current chunks of these documents of the organisation, with their vectors, by (documentId, index). */
  getIndexChunks(organisationId: string, documentIds: readonly string[]): Promise<IndexChunk[]>;
}
