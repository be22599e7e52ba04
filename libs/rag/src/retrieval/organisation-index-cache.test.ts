import { describe, expect, it } from 'vitest';
import { OfflineHashingEmbedder } from './offline-hashing-embedder.ts';
import type { IndexSource, SourceChunk } from './organisation-index-cache.ts';
import { OrganisationIndexCache } from './organisation-index-cache.ts';

const DIMENSIONS = 64;
const embedder = new OfflineHashingEmbedder({ dimensions: DIMENSIONS });

/** An in-memory stand-in for the knowledge store: versions, chunk sets, and a log of what was read. */
class FakeSource implements IndexSource {
  private readonly organisations = new Map<
    string,
    { version: number; documents: Map<string, { chunkSet: string; chunks: SourceChunk[] }> }
  >();
  private sets = 0;
  readonly chunkReads: string[][] = [];
  versionDelay: Promise<void> | undefined;

  async put(organisationId: string, documentId: string, texts: string[]): Promise<void> {
    const vectors = await embedder.embed(texts);
    const organisation = this.organisation(organisationId);
    const chunkSet = `set${++this.sets}`;
    organisation.documents.set(documentId, {
      chunkSet,
      chunks: texts.map((text, i) => ({ chunkId: `${documentId}-${chunkSet}-${i}`, documentId, text, vector: vectors[i] as Float32Array })),
    });
    organisation.version += 1;
  }

  remove(organisationId: string, documentId: string): void {
    const organisation = this.organisation(organisationId);
    organisation.documents.delete(documentId);
    organisation.version += 1;
  }

  async version(organisationId: string): Promise<number> {
    const version = this.organisation(organisationId).version;
    await this.versionDelay;
    return version;
  }

  async documents(organisationId: string) {
    return [...this.organisation(organisationId).documents].map(([documentId, { chunkSet }]) => ({ documentId, chunkSet }));
  }

  async chunks(organisationId: string, documentIds: readonly string[]) {
    this.chunkReads.push([...documentIds]);
    const documents = this.organisation(organisationId).documents;
    return documentIds.flatMap((id) => documents.get(id)?.chunks ?? []);
  }

  private organisation(organisationId: string) {
    let organisation = this.organisations.get(organisationId);
    if (!organisation) {
      organisation = { version: 0, documents: new Map() };
      this.organisations.set(organisationId, organisation);
    }
    return organisation;
  }
}

const topic = (i: number) => `Ledger ${i} records the cargo of ship number ${i}, a vessel named lantern${i}, and its harbour.`;
const ids = (hits: { chunkId: string }[]) => hits.map((hit) => hit.chunkId);

async function bothSearches(cache: OrganisationIndexCache, organisationId: string, query: string) {
  const [vector] = await embedder.embed([query]);
  return {
    keyword: ids(await cache.keyword.search(organisationId, query, 5)),
    vectors: ids(await cache.vectors.search(organisationId, vector as Float32Array, 5)),
  };
}

describe('OrganisationIndexCache', () => {
  it('finds a document as soon as the source has it, its new chunks once replaced, nothing once deleted', async () => {
    const source = new FakeSource();
    const cache = new OrganisationIndexCache({ source, maxBytes: 10_000_000, dimensions: DIMENSIONS });
    expect(await bothSearches(cache, 'org', 'lantern1')).toEqual({ keyword: [], vectors: [] });

    await source.put('org', 'd1', [topic(1)]);
    const found = await bothSearches(cache, 'org', 'lantern1');
    expect(found.keyword).toEqual(['d1-set1-0']);
    expect(found.vectors[0]).toBe('d1-set1-0');

    await source.put('org', 'd1', ['Now about the lighthouse keeper.', topic(1)]);
    expect((await bothSearches(cache, 'org', 'lantern1')).keyword).toEqual(['d1-set2-1']);
    expect((await bothSearches(cache, 'org', 'lighthouse keeper')).vectors).toEqual(['d1-set2-0', 'd1-set2-1']);

    source.remove('org', 'd1');
    expect(await bothSearches(cache, 'org', 'lantern1')).toEqual({ keyword: [], vectors: [] });
    expect(await bothSearches(cache, 'other', 'lantern1')).toEqual({ keyword: [], vectors: [] });
  });

  it('reads only the documents that changed, and answers as a cache built from scratch', async () => {
    const source = new FakeSource();
    const cache = new OrganisationIndexCache({ source, maxBytes: 10_000_000, dimensions: DIMENSIONS });
    for (let i = 0; i < 40; i += 1) await source.put('org', `d${i}`, [topic(i), `Appendix ${i}: harbour fees.`]);
    await cache.keyword.search('org', 'harbour', 5);
    expect(source.chunkReads.flat()).toHaveLength(40);

    source.chunkReads.length = 0;
    await source.put('org', 'd40', [topic(40)]);
    await source.put('org', 'd3', [topic(3), 'A new appendix on lantern3 fees.']);
    source.remove('org', 'd7');
    await cache.keyword.search('org', 'harbour', 5);
    expect(source.chunkReads.flat().sort()).toEqual(['d3', 'd40']);
    // The version did not move: no listing, no reads.
    await cache.vectors.search('org', (await embedder.embed(['harbour']))[0] as Float32Array, 5);
    expect(source.chunkReads.flat()).toHaveLength(2);

    const fresh = new OrganisationIndexCache({ source, maxBytes: 10_000_000, dimensions: DIMENSIONS });
    for (const query of ['lantern3 fees', 'lantern7', 'ship number 40', 'harbour fees appendix']) {
      expect(await bothSearches(cache, 'org', query)).toEqual(await bothSearches(fresh, 'org', query));
    }
    expect((await bothSearches(cache, 'org', 'lantern7')).keyword).toEqual([]);
  });

  it('makes a search that starts after a change wait for a refresh that sees it', async () => {
    const source = new FakeSource();
    const cache = new OrganisationIndexCache({ source, maxBytes: 10_000_000, dimensions: DIMENSIONS });
    let release = (): void => undefined;
    source.versionDelay = new Promise((resolve) => {
      release = resolve;
    });
    // This refresh read version 0 and is held before it lists anything.
    const early = cache.keyword.search('org', 'lantern1', 5);
    await new Promise((resolve) => setImmediate(resolve));
    await source.put('org', 'd1', [topic(1)]);
    const late = cache.keyword.search('org', 'lantern1', 5);
    release();
    source.versionDelay = undefined;
    expect(ids(await late)).toEqual(['d1-set1-0']);
    await early;
  });

  it('keeps every organisation together within the byte budget, evicting the least recently used', async () => {
    const source = new FakeSource();
    let evictions = 0;
    const probe = new OrganisationIndexCache({ source, maxBytes: 100_000_000, dimensions: DIMENSIONS });
    await source.put('a', 'd', [topic(1), topic(2)]);
    await probe.keyword.search('a', 'x', 1);
    const oneOrganisation = probe.bytes;
    expect(oneOrganisation).toBeGreaterThan(256 * DIMENSIONS * 4);

    const cache = new OrganisationIndexCache({
      source,
      maxBytes: Math.floor(oneOrganisation * 2.5),
      dimensions: DIMENSIONS,
      onEvict: () => {
        evictions += 1;
      },
    });
    for (const organisationId of ['a', 'b', 'c', 'd']) {
      if (organisationId !== 'a') await source.put(organisationId, 'd', [topic(1), topic(2)]);
      await cache.keyword.search(organisationId, 'lantern1', 5);
      expect(cache.bytes).toBeLessThanOrEqual(Math.floor(oneOrganisation * 2.5));
    }
    expect(evictions).toBe(2);
    expect(cache.organisations).toBe(2);
    source.chunkReads.length = 0;
    // 'a' was evicted: rebuilt from the source, with the same answer.
    expect(ids(await cache.keyword.search('a', 'lantern1', 5))).toEqual(['d-set1-0']);
    expect(source.chunkReads).toEqual([['d']]);
  });

  it('keeps no vector index without dimensions, and starts over after a failed refresh', async () => {
    const source = new FakeSource();
    const cache = new OrganisationIndexCache({ source, maxBytes: 10_000_000 });
    await source.put('org', 'd1', [topic(1)]);
    expect(await bothSearches(cache, 'org', 'lantern1')).toEqual({ keyword: ['d1-set1-0'], vectors: [] });

    const read = source.chunks.bind(source);
    source.chunks = async () => {
      throw new Error('store down');
    };
    await source.put('org', 'd2', [topic(2)]);
    await expect(cache.keyword.search('org', 'lantern2', 5)).rejects.toThrow('store down');
    source.chunks = read;
    source.chunkReads.length = 0;
    expect(ids(await cache.keyword.search('org', 'lantern2', 5))).toEqual(['d2-set2-0']);
    expect(source.chunkReads.flat().sort()).toEqual(['d1', 'd2']);
  });
});
