// `npm run setup`: creates the chat and knowledge collections and their indexes (MongoDB,
// when MONGODB_URL is set) or tables (embedded SQLite under DATA_DIR), as the seed's
// scripts/02_setup_chat_collections.py did. It calls the stores' own init, which every API
// node and worker also runs at start, so it is idempotent and holds no schema of its own:
// run it before the first start, or to check that the store is reachable and writable.
import { ConfigError, commonEnvShape, createLogger, parseEnv } from '@ragstream/runtime';
import { createChatStore, createKnowledgeStore } from '@ragstream/store';
import { z } from 'zod';

const setupEnvSchema = z.object({
  MONGODB_URL: commonEnvShape.MONGODB_URL,
  DATA_DIR: commonEnvShape.DATA_DIR,
  LOG_LEVEL: commonEnvShape.LOG_LEVEL,
});

async function setup(): Promise<void> {
  const config = parseEnv(setupEnvSchema);
  const logger = createLogger('setup', config.LOG_LEVEL);
  const target = config.MONGODB_URL ? 'mongodb' : 'sqlite';
  const stores = [
    createChatStore({ mongodbUrl: config.MONGODB_URL, dataDir: config.DATA_DIR }),
    createKnowledgeStore({ mongodbUrl: config.MONGODB_URL, dataDir: config.DATA_DIR }),
  ];
  try {
    for (const store of stores) await store.init();
  } finally {
    await Promise.all(stores.map((store) => store.close()));
  }
  logger.info('stores set up', target === 'sqlite' ? { store: target, dataDir: config.DATA_DIR } : { store: target });
}

try {
  await setup();
} catch (error) {
  if (error instanceof ConfigError) {
    console.error(error.message);
  } else {
    console.error('setup failed:', error);
  }
  process.exit(1);
}
