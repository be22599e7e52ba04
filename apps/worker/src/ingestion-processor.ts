import type { DeleteDocumentJobData, IngestJobData } from '@ragstream/protocol';
import { DELETE_DOCUMENT_JOB_NAME, deleteDocumentJobSchema, ingestJobSchema } from '@ragstream/protocol';
import type { ChunkableDocument } from '@ragstream/rag';
import { chunkDocument, detectLanguage, extractPdfText } from '@ragstream/rag';
import type { IngestionJobData } from '@ragstream/realtime';
import type { Logger } from '@ragstream/runtime';
import type { DocumentFormat, KnowledgeStore, NewChunk } from '@ragstream/store';
import type { Job } from 'bullmq';
import { UnrecoverableError } from 'bullmq';
import type { RetrievalComponents } from './retrieval-components.ts';
import { embeddingText } from './store-index-source.ts';
import type { WorkerMetrics } from './worker-metrics.ts';
import { secondsSince } from './worker-metrics.ts';

/** Texts per embedding request: large enough to amortise a remote call, small enough to report progress. */
const EMBED_BATCH = 32;

export interface IngestionDeps {
  knowledge: KnowledgeStore;
  retrieval: Pick<RetrievalComponents, 'embedder' | 'milvus'>;
  chunkSize: number;
  chunkOverlap: number;
  logger: Logger;
  metrics: WorkerMetrics;
}

export type IngestionOutcome = 'ready' | 'superseded' | 'deleted';

/**
 * Ingestion of one document revision: parse, chunk, detect each chunk's language, embed, then
 * commit the chunks with their vectors to the knowledge store (which moves the organisation's
 * index version, so every worker's index cache takes the document on its next query) and, with
 * Milvus, the vectors there, and only then mark the document ready. No index is built here: the
 * cost of a document does not grow with the organisation's size.
 * A job for a revision that a newer upload replaced stops without writing.
 */
export class IngestionProcessor {
  constructor(private readonly deps: IngestionDeps) {}

  readonly process = async (job: Job<IngestionJobData>, _token?: string, signal?: AbortSignal): Promise<IngestionOutcome> => {
    const startedAt = performance.now();
    try {
      const outcome = await this.run(job, signal);
      this.deps.metrics.ingestionEnded(outcome, secondsSince(startedAt));
      return outcome;
    } catch (err) {
      this.deps.metrics.ingestionEnded(isFinalAttempt(job, err) ? 'failed' : 'retry', secondsSince(startedAt));
      throw err;
    }
  };

  private async run(job: Job<IngestionJobData>, signal: AbortSignal | undefined): Promise<IngestionOutcome> {
    if (job.name === DELETE_DOCUMENT_JOB_NAME) return this.remove(deleteDocumentJobSchema.parse(job.data), signal);
    const data = ingestJobSchema.parse(job.data);
    const { organisationId, documentId, revision, traceId } = data;
    // One logger per job, with the upload request's traceId (none on jobs queued before traces existed).
    const log = this.deps.logger.child({
      jobId: job.id,
      organisationId,
      documentId,
      revision,
      ...(traceId === undefined ? {} : { traceId }),
    });
    log.info('ingestion job started', { bullAttempt: job.attemptsMade + 1 });
    try {
      const outcome = await this.ingest(job, data, signal, log);
      if (outcome === 'superseded') log.info('ingestion superseded by a newer revision or a deletion; nothing written');
      return outcome;
    } catch (err) {
      if (isFinalAttempt(job, err)) {
        const error = err instanceof Error ? err.message : String(err);
        log.warn('document ingestion failed for good', { error });
        await this.deps.knowledge.updateDocumentStatus(data.documentId, data.revision, { status: 'failed', error });
      }
      throw err;
    }
  }

  private async ingest(
    job: Job<IngestionJobData>,
    data: IngestJobData,
    signal: AbortSignal | undefined,
    log: Logger,
  ): Promise<IngestionOutcome> {
    const { knowledge, retrieval } = this.deps;
    const { organisationId, documentId, revision } = data;
    const [document, stored] = await Promise.all([
      knowledge.getDocument(organisationId, documentId),
      knowledge.getDocumentContent(documentId),
    ]);
    if (!document || !stored || stored.revision !== revision) return 'superseded';

    const progress = async (percent: number): Promise<boolean> => {
      await job.updateProgress(percent);
      return knowledge.updateDocumentStatus(documentId, revision, { status: 'processing', progress: percent });
    };
    if (!(await progress(5))) return 'superseded';

    const parsed = await parse(document.format, stored.content);
    const chunks: NewChunk[] = chunkDocument(parsed, { maxChars: this.deps.chunkSize, overlapChars: this.deps.chunkOverlap }).map(
      (chunk) => ({
        index: chunk.index,
        text: chunk.text,
        ...(chunk.heading === undefined ? {} : { heading: chunk.heading }),
        language: detectLanguage(chunk.text).language,
      }),
    );
    const embedText = chunks.map((chunk) => embeddingText({ ...chunk, title: document.title }));
    const vectors: Float32Array[] = [];
    for (let i = 0; i < embedText.length; i += EMBED_BATCH) {
      vectors.push(...(await retrieval.embedder.embed(embedText.slice(i, i + EMBED_BATCH), signal)));
      if (!(await progress(10 + Math.round((70 * Math.min(i + EMBED_BATCH, embedText.length)) / embedText.length)))) return 'superseded';
    }

    const saved = await knowledge.replaceChunks(
      documentId,
      revision,
      chunks.map((chunk, i) => ({ ...chunk, vector: vectors[i] ?? new Float32Array(retrieval.embedder.dimensions) })),
    );
    if (!saved) return 'superseded';
    this.deps.metrics.chunksIngested(saved.length);
    if (retrieval.milvus) {
      await retrieval.milvus.deleteDocument(organisationId, documentId, signal);
      await retrieval.milvus.upsert(
        saved.map((chunk, i) => ({
          chunkId: chunk.id,
          documentId,
          organisationId,
          vector: vectors[i] ?? new Float32Array(retrieval.embedder.dimensions),
        })),
        signal,
      );
    }
    await knowledge.updateDocumentStatus(documentId, revision, { status: 'ready', chunkCount: saved.length });
    await job.updateProgress(100);
    log.info('document ingested', { chunks: saved.length });
    return 'ready';
  }

  /** The store already dropped the document (and moved the index version); only Milvus holds copies. */
  private async remove(data: DeleteDocumentJobData, signal: AbortSignal | undefined): Promise<IngestionOutcome> {
    await this.deps.retrieval.milvus?.deleteDocument(data.organisationId, data.documentId, signal);
    return 'deleted';
  }
}

/** BullMQ will not run the job again after this error. */
function isFinalAttempt(job: Job<IngestionJobData>, err: unknown): boolean {
  return err instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

/** The parse stage: a PDF's text is extracted (a broken PDF will not parse on a retry either). */
async function parse(format: DocumentFormat, content: string): Promise<ChunkableDocument> {
  if (format !== 'pdf') return { text: content, format };
  try {
    // pdf.js takes a plain Uint8Array, not a Buffer.
    return { text: await extractPdfText(new Uint8Array(Buffer.from(content, 'base64'))), format: 'text' };
  } catch (err) {
    throw new UnrecoverableError(`could not read the PDF: ${err instanceof Error ? err.message : String(err)}`);
  }
}
