import { z } from 'zod';

/** The job catalog: every queue, its job name and its payload schema, parsed when enqueued and when run. */
export const GENERATE_QUEUE = 'generate';
export const GENERATE_JOB_NAME = 'generate-answer';

/**
 * Follows one user message (or one upload) through the API node's and the workers' logs.
 * Optional, so that jobs queued before it existed still parse; its characters are limited
 * because it may come from a client's X-Request-Id header.
 */
export const traceIdSchema = z.string().regex(/^[A-Za-z0-9._:-]{1,128}$/, 'must be 1-128 letters, digits or . _ : -');

export const generateJobSchema = z.object({
  chatId: z.string(),
  organisationId: z.string(),
  userId: z.string(),
  userMessageId: z.string(),
  generationId: z.string(),
  text: z.string(),
  timezone: z.string().optional(),
  selectedLanguage: z.string().optional(),
  enqueuedAt: z.number().int(),
  traceId: traceIdSchema.optional(),
});
export type GenerateJobData = z.infer<typeof generateJobSchema>;

/** One generation per user message: the job id (and generation id) is derived from it, so a resend cannot start a second answer. */
export function generationIdFor(userMessageId: string): string {
  return `gen-${userMessageId}`;
}

export const INGEST_QUEUE = 'ingest';
export const INGEST_JOB_NAME = 'ingest-document';
export const DELETE_DOCUMENT_JOB_NAME = 'delete-document';

/** Parse, chunk, detect language, embed and index one revision of a document. */
export const ingestJobSchema = z.object({
  organisationId: z.string(),
  documentId: z.string(),
  revision: z.number().int().positive(),
  traceId: traceIdSchema.optional(),
});
export type IngestJobData = z.infer<typeof ingestJobSchema>;

/** Removes a deleted document's vectors and rebuilds its organisation's keyword index. */
export const deleteDocumentJobSchema = z.object({
  organisationId: z.string(),
  documentId: z.string(),
});
export type DeleteDocumentJobData = z.infer<typeof deleteDocumentJobSchema>;

/** One ingestion job per document revision: a re-upload supersedes, a repeat is ignored. */
export function ingestJobIdFor(documentId: string, revision: number): string {
  return `ingest-${documentId}-${revision}`;
}
