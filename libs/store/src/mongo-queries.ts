import { ObjectId } from 'bson';
import type { Collection, Document, Filter, IndexDescription, MongoClient } from 'mongodb';
import { decodeCursor } from './pagination.ts';

export const DEFAULT_DB_NAME = 'ragstream';
export const DUPLICATE_KEY = 11000;

/** The database named in a `mongodb://` or `mongodb+srv://` URL's path, if any. */
export function dbNameFromUrl(url: string): string | undefined {
  const path = /^mongodb(?:\+srv)?:\/\/[^/?]*\/([^?]*)/.exec(url)?.[1];
  return path ? decodeURIComponent(path) : undefined;
}

/** The filter for items after the cursor's position in (createdAt, _id) order. */
export function afterCursor(cursor: string | undefined): Filter<{ createdAt: Date; _id: ObjectId }> {
  if (cursor === undefined) return {};
  const position = decodeCursor(cursor);
  const createdAt = new Date(position.createdAt);
  // The $gte bound lets the index scan start at the cursor; the $or then settles ties on _id.
  return {
    createdAt: { $gte: createdAt },
    $or: [{ createdAt: { $gt: createdAt } }, { createdAt, _id: { $gt: new ObjectId(position.id) } }],
  };
}

/**
 * Whether the server is FerretDB (its buildInfo says so). FerretDB 1.x lacks partial indexes, and its
 * unique indexes (SQLite) already let any number of documents lack the indexed fields.
 */
export async function isFerretDb(client: MongoClient): Promise<boolean> {
  const info = await client.db('admin').command({ buildInfo: 1 });
  return 'ferretdbVersion' in info;
}

/**
 * Creates the indexes one call each: creating several at once that exist already crashes
 * FerretDB 1.24's connection (MongoDB takes either way), and init runs at every start.
 */
export async function createIndexesOneByOne<T extends Document>(collection: Collection<T>, indexes: IndexDescription[]): Promise<void> {
  for (const { key, ...options } of indexes) await collection.createIndex(key, options);
}
