import type { DocumentStatus, NewChunk } from './knowledge-store.ts';

/** The optional text fields of an organisation; an empty string clears one. */
export const ORGANISATION_TEXT_FIELDS = ['industry', 'description', 'tone'] as const;

/** Throws unless every chunk has its own non-negative integer index. */
export function assertChunkIndexes(chunks: readonly NewChunk[]): void {
  const seen = new Set<number>();
  for (const chunk of chunks) {
    if (!Number.isSafeInteger(chunk.index) || chunk.index < 0) {
      throw new RangeError(`chunk index is not a non-negative integer: ${chunk.index}`);
    }
    if (seen.has(chunk.index)) throw new RangeError(`chunk index ${chunk.index} appears twice`);
    seen.add(chunk.index);
  }
}

/** The progress a status update stores: the given one (within 0..100), else 100 when ready, 0 when queued. */
export function nextProgress(status: DocumentStatus, progress: number | undefined): number | undefined {
  if (progress !== undefined) return Math.min(100, Math.max(0, progress));
  if (status === 'ready') return 100;
  if (status === 'queued') return 0;
  return undefined;
}

/** The error a status update stores: only a failed document has one. */
export function nextError(status: DocumentStatus, error: string | undefined): string | undefined {
  return status === 'failed' ? error : undefined;
}

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}

/** `value` unless it is empty, in which case the optional field is left out. */
export function optionalText(value: string | undefined): string | undefined {
  return value === '' ? undefined : value;
}

export type OrganisationTextField = (typeof ORGANISATION_TEXT_FIELDS)[number];
