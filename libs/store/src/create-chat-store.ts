import { join } from 'node:path';
import type { ChatStore } from './chat-store.ts';
import { MongoChatStore } from './mongo-chat-store.ts';
import { SqliteChatStore } from './sqlite-chat-store.ts';

export interface CreateChatStoreOptions {
  mongodbUrl?: string | undefined;
  dataDir: string;
}

/** MongoDB when a URL is configured, else a SQLite file in `dataDir` shared by every local process. */
export function createChatStore(options: CreateChatStoreOptions): ChatStore {
  if (options.mongodbUrl) return new MongoChatStore({ url: options.mongodbUrl });
  return new SqliteChatStore({ filename: join(options.dataDir, 'ragstream.sqlite') });
}
