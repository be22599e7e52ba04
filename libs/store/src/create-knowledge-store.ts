import { join } from 'node:path';
import type { KnowledgeStore } from './knowledge-store.ts';
import { MongoKnowledgeStore } from './mongo-knowledge-store.ts';
import { SqliteKnowledgeStore } from './sqlite-knowledge-store.ts';

export interface CreateKnowledgeStoreOptions {
  mongodbUrl?: string | undefined;
  dataDir: string;
}

/** MongoDB when a URL is configured, else the SQLite file in `dataDir` that the chat store uses too. */
export function createKnowledgeStore(options: CreateKnowledgeStoreOptions): KnowledgeStore {
  if (options.mongodbUrl) return new MongoKnowledgeStore({ url: options.mongodbUrl });
  return new SqliteKnowledgeStore({ filename: join(options.dataDir, 'ragstream.sqlite') });
}
