import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import writeFileAtomic from 'write-file-atomic';
import { isCode, withFileLock } from './file-lock.ts';
import type { Bm25Options, KeywordChunk, KeywordHit } from './keyword-index.ts';
import { buildKeywordIndex, KeywordIndex } from './keyword-index.ts';
import { VersionCache } from './version-cache.ts';
import { organisationDirName, pruneVersions, readVersion, writeVersion } from './versioned-files.ts';

/** What the hybrid retriever needs of keyword search. */
export interface KeywordSearcher {
  search(organisationId: string, query: string, k: number, signal?: AbortSignal): Promise<KeywordHit[]>;
}

export interface KeywordIndexStoreOptions {
  /** Root directory; each organisation gets a sub-directory. */
  dataDir: string;
  bm25?: Bm25Options;
  /** How long a rebuild waits for another process's rebuild of the same organisation (default 60 s). */
  lockTimeoutMs?: number;
}

const NAME = 'bm25';

interface Loaded {
  version: number;
  index: KeywordIndex | undefined;
}

/**
 * Per-organisation BM25 indexes on disk, shared by every worker process.
 *
 * Life cycle: after ingestion changes an organisation's documents, the worker
 * calls `rebuild` with a function that reads all the organisation's chunks.
 * Under a cross-process lock it reads them (so that two concurrent rebuilds
 * are serialised and the later one includes both changes), builds a new
 * immutable index, writes `<dir>/<org>/bm25.v<N+1>.json` (temp + rename) and
 * then flips `bm25.current` to N+1.
 *
 * Readers check the pointer before each query and, when it moved, load the new
 * version into a fresh object that replaces the old one only once it is
 * complete. A query runs against the index object it started with, so it sees
 * the old version or the new one, never a mix or a half-built index.
 */
export class KeywordIndexStore implements KeywordSearcher {
  private readonly dataDir: string;
  private readonly bm25: Bm25Options;
  private readonly lockTimeoutMs: number;
  private readonly cache = new VersionCache<Loaded>();

  constructor(options: KeywordIndexStoreOptions) {
    this.dataDir = options.dataDir;
    this.bm25 = options.bm25 ?? {};
    this.lockTimeoutMs = options.lockTimeoutMs ?? 60_000;
  }

  /** Rebuilds the organisation's index from `readChunks()` and publishes it; returns the new version. */
  async rebuild(
    organisationId: string,
    readChunks: () => Promise<readonly KeywordChunk[]> | readonly KeywordChunk[],
    signal?: AbortSignal,
  ): Promise<number> {
    const dir = this.organisationDir(organisationId);
    await mkdir(dir, { recursive: true });
    return withFileLock(
      join(dir, `${NAME}.lock`),
      async (lockLost) => {
        const chunks = await readChunks();
        signal?.throwIfAborted();
        const json = buildKeywordIndex(chunks, this.bm25);
        const version = ((await readVersion(dir, NAME)) ?? 0) + 1;
        await writeFileAtomic(join(dir, `${NAME}.v${version}.json`), json);
        // Another writer holds the lock now and may publish this same version number.
        lockLost.throwIfAborted();
        await writeVersion(dir, NAME, version);
        await pruneVersions(dir, NAME, version);
        return version;
      },
      { timeoutMs: this.lockTimeoutMs, ...(signal ? { signal } : {}) },
    );
  }

  async search(organisationId: string, query: string, k: number, signal?: AbortSignal): Promise<KeywordHit[]> {
    signal?.throwIfAborted();
    const { index } = await this.current(organisationId);
    signal?.throwIfAborted();
    return index ? index.search(query, k) : [];
  }

  /** The published version this process would query now (0 when none). */
  async version(organisationId: string): Promise<number> {
    return (await this.current(organisationId)).version;
  }

  async close(): Promise<void> {
    this.cache.loaded.clear();
  }

  private organisationDir(organisationId: string): string {
    return join(this.dataDir, organisationDirName(organisationId));
  }

  private async current(organisationId: string): Promise<Loaded> {
    const dir = this.organisationDir(organisationId);
    const version = (await readVersion(dir, NAME)) ?? 0;
    return this.cache.get(organisationId, version, () => this.load(organisationId, dir, version));
  }

  private async load(organisationId: string, dir: string, version: number): Promise<Loaded> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        const index = version === 0 ? undefined : KeywordIndex.load(await readFile(join(dir, `${NAME}.v${version}.json`), 'utf8'));
        const installed = this.cache.loaded.get(organisationId);
        // Never step back to an older version that a slower load finished late.
        if (installed && installed.version > version) return installed;
        const fresh = { version, index };
        this.cache.loaded.set(organisationId, fresh);
        return fresh;
      } catch (error) {
        // An old version's file may have been pruned under a slow reader: read the pointer again.
        if (!isCode(error, 'ENOENT') || attempt >= 3) throw error;
        version = (await readVersion(dir, NAME)) ?? 0;
      }
    }
  }
}
