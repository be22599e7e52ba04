import type { Page } from '@ragstream/protocol';
import { InvalidCursorError } from './chat-store.ts';

/** A position in a list ordered by (createdAt ms, id). */
export interface Position {
  createdAt: number;
  id: string;
}

const CURSOR_TEXT = /^(-?\d{1,16}):([0-9a-f]{24})$/;

export function encodeCursor(position: Position): string {
  return Buffer.from(`${position.createdAt}:${position.id}`).toString('base64url');
}

export function decodeCursor(cursor: string): Position {
  const match = CURSOR_TEXT.exec(Buffer.from(cursor, 'base64url').toString('utf8'));
  const createdAt = Number(match?.[1]);
  const id = match?.[2];
  // Re-encoding rejects the non-canonical spellings that Buffer's lenient decoder accepts.
  if (id === undefined || !Number.isSafeInteger(createdAt) || encodeCursor({ createdAt, id }) !== cursor) {
    throw new InvalidCursorError();
  }
  return { createdAt, id };
}

/** `rows` holds up to limit + 1 items; the extra one only tells that another page exists. */
export function toPage<T extends { id: string; createdAt: string }>(rows: T[], limit: number): Page<T> {
  if (rows.length <= limit) return { items: rows, nextCursor: null };
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return {
    items,
    nextCursor: last === undefined ? null : encodeCursor({ createdAt: Date.parse(last.createdAt), id: last.id }),
  };
}
