import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createKnowledgeStore } from './create-knowledge-store.ts';
import { DEFAULT_ORGANISATION_ID } from './knowledge-store.ts';

describe('createKnowledgeStore', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'ragstream-create-knowledge-'));

  afterAll(() => {
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('uses SQLite in the data directory when no MongoDB URL is given', async () => {
    const store = createKnowledgeStore({ mongodbUrl: undefined, dataDir });
    try {
      expect(store.kind).toBe('sqlite');
      await store.init();
      expect(existsSync(join(dataDir, 'ragstream.sqlite'))).toBe(true);
      expect((await store.ensureDefaultOrganisation()).id).toBe(DEFAULT_ORGANISATION_ID);
    } finally {
      await store.close();
    }
  });

  it('uses MongoDB when a URL is given', async () => {
    // The client connects lazily, so no server is needed to build it.
    const store = createKnowledgeStore({ mongodbUrl: 'mongodb://127.0.0.1:27017', dataDir });
    expect(store.kind).toBe('mongodb');
    await store.close();
  });
});
