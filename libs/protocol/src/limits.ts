/** Pagination bounds for every list endpoint. */
export const MAX_PAGE_LIMIT = 200;
export const DEFAULT_PAGE_LIMIT = 50;

/** Transport frame ceiling: far above any message limit, so oversized messages get an error frame instead of a closed socket. */
export const TRANSPORT_MAX_FRAME_BYTES = 256 * 1024;

export const MAX_CLIENT_MESSAGE_ID_LENGTH = 128;

export function utf8Bytes(text: string): number {
  return Buffer.byteLength(text, 'utf8');
}
