import { isObjectId } from '@ragstream/protocol';
import { afterAll, beforeAll, describe, expect } from 'vitest';
import type { PageRequest } from './chat-store.ts';
import { InvalidCursorError } from './chat-store.ts';
import type { UnsupportedCases } from './contract-skips.ts';
import { itUnlessUnsupported } from './contract-skips.ts';
import type { ChunkRecord, DocumentInput, DocumentRecord, KnowledgeStore, NewChunk, Organisation } from './knowledge-store.ts';
import { DEFAULT_ORGANISATION_ID } from './knowledge-store.ts';

/** Well-formed, but its timestamp (1970) is older than any id a store issues. */
const UNKNOWN_ID = '000000010000000000000002';
const MALFORMED_IDS = ['', 'nope', '0123456789ABCDEF01234567', '0123456789abcdef0123456', "0' OR '1'='1"];
const FOREIGN_CURSORS = ['', 'not a cursor', '!!!!', Buffer.from('12:abc').toString('base64url'), 'eyJhIjoxfQ'];
const HINDI_TEXT = 'नमस्ते दुनिया। यह एक परीक्षण दस्तावेज़ है।';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads every page, checking that each respects the limit and only the last has no cursor. */
async function readAllPages<T>(
  list: (page: PageRequest) => Promise<{ items: T[]; nextCursor: string | null }>,
  limit: number,
): Promise<T[][]> {
  const pages: T[][] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await list({ limit, cursor });
    expect(page.items.length).toBeLessThanOrEqual(limit);
    pages.push(page.items);
    if (page.nextCursor === null) return pages;
    expect(page.items).toHaveLength(limit);
    cursor = page.nextCursor;
  }
}

/** `count` chunks with indexes 0..count-1, every other one under a heading, alternating languages. */
function makeChunks(count: number, label = 'chunk'): NewChunk[] {
  return Array.from({ length: count }, (_, index) => {
    const chunk: NewChunk = { index, text: `${label} ${index}`, language: index % 3 === 2 ? 'hi' : 'en' };
    if (index % 2 === 1) chunk.heading = `Heading ${index}`;
    return chunk;
  });
}

const byDocumentAndIndex = (a: ChunkRecord, b: ChunkRecord) =>
  a.documentId === b.documentId ? a.index - b.index : a.documentId < b.documentId ? -1 : 1;

/**
 * The KnowledgeStore behaviour every adapter must share. `makeStore` returns an initialised store;
 * `unsupported` names the cases a server cannot pass, each with its reason (they are skipped, saying so).
 */
export function describeKnowledgeStoreContract(
  name: string,
  makeStore: () => Promise<KnowledgeStore>,
  unsupported: UnsupportedCases = {},
): void {
  describe(`${name} satisfies the KnowledgeStore contract`, () => {
    const it = itUnlessUnsupported(unsupported);
    let store: KnowledgeStore;

    beforeAll(async () => {
      store = await makeStore();
    });

    afterAll(async () => {
      await store?.close();
    });

    const newOrganisation = (name = 'Acme') => store.createOrganisation({ name });
    const newDocument = (organisationId: string, overrides: Partial<Omit<DocumentInput, 'organisationId'>> = {}) =>
      store.createDocument({ organisationId, title: 'Handbook', format: 'text', content: 'Some text.', ...overrides });
    /** What ingestion does: write the chunks for the document's revision, then mark it ready. */
    const ingest = async (document: DocumentRecord, chunks: NewChunk[]): Promise<ChunkRecord[]> => {
      const stored = await store.replaceChunks(document.id, document.revision, chunks);
      if (!stored) throw new Error(`replaceChunks refused revision ${document.revision} of ${document.id}`);
      expect(await store.updateDocumentStatus(document.id, document.revision, { status: 'ready', chunkCount: stored.length })).toBe(true);
      return stored;
    };
    const ids = (records: { id: string }[]) => records.map((record) => record.id);

    it('initialises idempotently and answers ping', async () => {
      await store.init();
      await store.ping();
    });

    describe('organisations', () => {
      it('creates the default organisation once, also under concurrent calls', async () => {
        const results = await Promise.all([1, 2, 3, 4, 5].map(() => store.ensureDefaultOrganisation()));
        const first = results[0];
        expect(first).toMatchObject({ id: DEFAULT_ORGANISATION_ID, name: 'Default', defaultLanguage: 'en' });
        for (const result of results) expect(result).toStrictEqual(first);

        await sleep(5);
        expect(await store.ensureDefaultOrganisation()).toStrictEqual(first);
        expect(await store.getOrganisation(DEFAULT_ORGANISATION_ID)).toStrictEqual(first);
      });

      it('creates an organisation with its whole profile and reads it back', async () => {
        const organisation = await store.createOrganisation({
          name: 'Acme Insurance',
          industry: 'insurance',
          description: 'Motor and home cover.',
          tone: 'friendly',
          defaultLanguage: 'hi',
        });
        expect(isObjectId(organisation.id)).toBe(true);
        expect(organisation.id).not.toBe(DEFAULT_ORGANISATION_ID);
        expect(organisation).toMatchObject({
          name: 'Acme Insurance',
          industry: 'insurance',
          description: 'Motor and home cover.',
          tone: 'friendly',
          defaultLanguage: 'hi',
        });
        expect(new Date(organisation.createdAt).toISOString()).toBe(organisation.createdAt);
        expect(organisation.updatedAt).toBe(organisation.createdAt);
        expect(await store.getOrganisation(organisation.id)).toStrictEqual(organisation);
      });

      it('defaults the language to English and leaves out absent or empty optional fields', async () => {
        const organisation = await store.createOrganisation({ name: 'Plain', industry: '', tone: undefined });
        expect(Object.keys(organisation).sort()).toEqual(['createdAt', 'defaultLanguage', 'id', 'name', 'updatedAt']);
        expect(organisation.defaultLanguage).toBe('en');
        expect(await store.getOrganisation(organisation.id)).toStrictEqual(organisation);
      });

      it('updates the given fields only, clears emptied ones and bumps updatedAt', async () => {
        const organisation = await store.createOrganisation({
          name: 'Before',
          industry: 'retail',
          description: 'A shop.',
          tone: 'formal',
        });
        await sleep(5);
        const updated = await store.updateOrganisation(organisation.id, {
          name: 'After',
          industry: '',
          tone: undefined,
          defaultLanguage: 'hi',
        });
        expect(updated).toStrictEqual({
          id: organisation.id,
          name: 'After',
          description: 'A shop.',
          tone: 'formal',
          defaultLanguage: 'hi',
          createdAt: organisation.createdAt,
          updatedAt: updated?.updatedAt,
        });
        expect(Date.parse(updated?.updatedAt ?? '')).toBeGreaterThan(Date.parse(organisation.updatedAt));
        expect(await store.getOrganisation(organisation.id)).toStrictEqual(updated);

        const described = await store.updateOrganisation(organisation.id, { description: 'A bigger shop.' });
        expect(described).toMatchObject({ name: 'After', description: 'A bigger shop.', tone: 'formal' });
      });

      it('lists organisations oldest first across pages, without duplicates or gaps', async () => {
        const created: Organisation[] = [];
        for (let i = 0; i < 7; i++) created.push(await newOrganisation(`listed ${i}`));

        const all = (await readAllPages((page) => store.listOrganisations(page), 3)).flat();
        expect(new Set(ids(all)).size).toBe(all.length);
        for (let i = 1; i < all.length; i++) {
          const [a, b] = [all[i - 1], all[i]];
          const ordered = a && b && (a.createdAt < b.createdAt || (a.createdAt === b.createdAt && a.id < b.id));
          expect(ordered).toBe(true);
        }
        // Nothing else is created meanwhile, so these are the newest.
        expect(all.slice(-7)).toStrictEqual(created);

        const single = (await readAllPages((page) => store.listOrganisations(page), 1)).flat();
        expect(single).toStrictEqual(all);
        const whole = await store.listOrganisations({ limit: all.length });
        expect(whole).toStrictEqual({ items: all, nextCursor: null });
      });

      it('reads unknown and malformed organisation ids as absent', async () => {
        for (const id of [UNKNOWN_ID, ...MALFORMED_IDS]) {
          expect(await store.getOrganisation(id)).toBeNull();
          expect(await store.updateOrganisation(id, { name: 'x' })).toBeNull();
          expect(await store.listDocuments(id, { limit: 10 })).toStrictEqual({ items: [], nextCursor: null });
          expect(await store.listOrganisationChunks(id)).toEqual([]);
        }
      });

      it('rejects a cursor it did not issue', async () => {
        const organisation = await newOrganisation();
        for (const cursor of FOREIGN_CURSORS) {
          await expect(store.listOrganisations({ limit: 5, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
          await expect(store.listDocuments(organisation.id, { limit: 5, cursor })).rejects.toBeInstanceOf(InvalidCursorError);
        }
      });
    });

    describe('documents', () => {
      it('creates a queued document at revision 1 and keeps its content', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id, { title: 'नियम', format: 'markdown', content: HINDI_TEXT });
        expect(isObjectId(document.id)).toBe(true);
        expect(document).toStrictEqual({
          id: document.id,
          organisationId: organisation.id,
          title: 'नियम',
          format: 'markdown',
          status: 'queued',
          progress: 0,
          chunkCount: 0,
          bytes: Buffer.byteLength(HINDI_TEXT, 'utf8'),
          revision: 1,
          createdAt: document.createdAt,
          updatedAt: document.createdAt,
        });
        expect(document.bytes).toBeGreaterThan(HINDI_TEXT.length);
        expect(new Date(document.createdAt).toISOString()).toBe(document.createdAt);
        expect(await store.getDocument(organisation.id, document.id)).toStrictEqual(document);
        expect(await store.getDocumentContent(document.id)).toStrictEqual({ content: HINDI_TEXT, revision: 1 });
      });

      it('refuses to create a document for a malformed organisation id', async () => {
        for (const id of MALFORMED_IDS) {
          await expect(newDocument(id)).rejects.toThrow(TypeError);
        }
      });

      it("lists an organisation's documents oldest first across pages", async () => {
        const organisation = await newOrganisation();
        const created: DocumentRecord[] = [];
        for (let i = 0; i < 5; i++) created.push(await newDocument(organisation.id, { title: `doc ${i}` }));
        await newDocument((await newOrganisation('other')).id);

        const pages = await readAllPages((page) => store.listDocuments(organisation.id, page), 2);
        expect(pages.map((page) => page.length)).toEqual([2, 2, 1]);
        expect(pages.flat()).toStrictEqual(created);
        expect(await store.listDocuments(organisation.id, { limit: 5 })).toStrictEqual({
          items: created,
          nextCursor: null,
        });
        expect(await store.listDocuments((await newOrganisation()).id, { limit: 5 })).toStrictEqual({
          items: [],
          nextCursor: null,
        });
      });

      it("counts an organisation's documents, deleted ones no longer", async () => {
        const organisation = await newOrganisation();
        const first = await newDocument(organisation.id);
        await newDocument(organisation.id);
        await newDocument((await newOrganisation('other')).id);
        expect(await store.countDocuments(organisation.id)).toBe(2);
        await store.deleteDocument(organisation.id, first.id);
        expect(await store.countDocuments(organisation.id)).toBe(1);
        expect(await store.countDocuments((await newOrganisation()).id)).toBe(0);
        expect(await store.countDocuments('not-an-id')).toBe(0);
      });

      it('records status, progress, error and chunk count', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id);
        const read = async () => {
          const current = await store.getDocument(organisation.id, document.id);
          if (!current) throw new Error('document vanished');
          return current;
        };

        await sleep(5);
        expect(await store.updateDocumentStatus(document.id, 1, { status: 'processing', progress: 40 })).toBe(true);
        const processing = await read();
        expect(processing).toMatchObject({ status: 'processing', progress: 40, chunkCount: 0, revision: 1 });
        expect(Date.parse(processing.updatedAt)).toBeGreaterThan(Date.parse(document.updatedAt));
        expect(processing.createdAt).toBe(document.createdAt);

        expect(await store.updateDocumentStatus(document.id, 1, { status: 'failed', error: 'embedder down' })).toBe(true);
        expect(await read()).toMatchObject({ status: 'failed', progress: 40, error: 'embedder down' });

        expect(await store.updateDocumentStatus(document.id, 1, { status: 'processing' })).toBe(true);
        const retried = await read();
        expect(retried).toMatchObject({ status: 'processing', progress: 40 });
        expect('error' in retried).toBe(false);

        expect(await store.updateDocumentStatus(document.id, 1, { status: 'processing', progress: 150 })).toBe(true);
        expect((await read()).progress).toBe(100);
        expect(await store.updateDocumentStatus(document.id, 1, { status: 'processing', progress: -3 })).toBe(true);
        expect((await read()).progress).toBe(0);
        expect(await store.updateDocumentStatus(document.id, 1, { status: 'processing', progress: 12.5 })).toBe(true);
        expect((await read()).progress).toBe(12.5);

        expect(await store.updateDocumentStatus(document.id, 1, { status: 'ready', chunkCount: 7 })).toBe(true);
        expect(await read()).toMatchObject({ status: 'ready', progress: 100, chunkCount: 7 });

        expect(await store.updateDocumentStatus(document.id, 1, { status: 'failed' })).toBe(true);
        const failed = await read();
        expect(failed).toMatchObject({ status: 'failed', progress: 100, chunkCount: 7 });
        expect('error' in failed).toBe(false);

        expect(await store.updateDocumentStatus(document.id, 1, { status: 'queued' })).toBe(true);
        expect(await read()).toMatchObject({ status: 'queued', progress: 0, chunkCount: 7 });
      });

      it('replaces the content: new revision, queued again, error cleared, chunks kept until replaced', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id, { content: 'first version' });
        const chunks = await ingest(document, makeChunks(2));
        await store.updateDocumentStatus(document.id, 1, { status: 'failed', progress: 60, error: 'boom' });

        await sleep(5);
        const replaced = await store.replaceDocumentContent(organisation.id, document.id, {
          title: 'Handbook v2',
          format: 'html',
          content: '<p>second version</p>',
        });
        expect(replaced).toStrictEqual({
          id: document.id,
          organisationId: organisation.id,
          title: 'Handbook v2',
          format: 'html',
          status: 'queued',
          progress: 0,
          chunkCount: 2,
          bytes: Buffer.byteLength('<p>second version</p>'),
          revision: 2,
          createdAt: document.createdAt,
          updatedAt: replaced?.updatedAt,
        });
        expect(Date.parse(replaced?.updatedAt ?? '')).toBeGreaterThan(Date.parse(document.updatedAt));
        expect(await store.getDocument(organisation.id, document.id)).toStrictEqual(replaced);
        expect(await store.getDocumentContent(document.id)).toStrictEqual({
          content: '<p>second version</p>',
          revision: 2,
        });
        expect(await store.getChunks(ids(chunks))).toStrictEqual(chunks);
        expect(await store.listDocuments(organisation.id, { limit: 10 })).toStrictEqual({
          items: [replaced],
          nextCursor: null,
        });
      });

      it('gives concurrent uploads distinct revisions and keeps the content of the last', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id);
        const results = await Promise.all(
          [1, 2, 3, 4].map((i) =>
            store.replaceDocumentContent(organisation.id, document.id, {
              title: `v${i}`,
              format: 'text',
              content: `content ${i}`,
            }),
          ),
        );
        expect(results.map((result) => result?.revision ?? 0).sort((x, y) => x - y)).toEqual([2, 3, 4, 5]);
        const last = results.find((result) => result?.revision === 5);
        expect(await store.getDocument(organisation.id, document.id)).toMatchObject({ revision: 5, title: last?.title });
        expect(await store.getDocumentContent(document.id)).toStrictEqual({
          content: `content ${last?.title.slice(1)}`,
          revision: 5,
        });
      });

      it('refuses a status update for a stale revision', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id);
        const replaced = await store.replaceDocumentContent(organisation.id, document.id, {
          title: 'again',
          format: 'text',
          content: 'new text',
        });
        expect(await store.updateDocumentStatus(document.id, 1, { status: 'ready', chunkCount: 3 })).toBe(false);
        expect(await store.updateDocumentStatus(document.id, 3, { status: 'ready', chunkCount: 3 })).toBe(false);
        expect(await store.getDocument(organisation.id, document.id)).toStrictEqual(replaced);
        expect(await store.updateDocumentStatus(document.id, 2, { status: 'processing', progress: 5 })).toBe(true);
      });

      it('finds, replaces and deletes a document only within its own organisation', async () => {
        const organisation = await newOrganisation();
        const other = await newOrganisation();
        const document = await newDocument(organisation.id);
        const input = { title: 'stolen', format: 'text' as const, content: 'x' };
        for (const organisationId of [other.id, DEFAULT_ORGANISATION_ID, UNKNOWN_ID, ...MALFORMED_IDS]) {
          expect(await store.getDocument(organisationId, document.id)).toBeNull();
          expect(await store.replaceDocumentContent(organisationId, document.id, input)).toBeNull();
          expect(await store.deleteDocument(organisationId, document.id)).toBe(false);
        }
        expect(await store.getDocument(organisation.id, document.id)).toStrictEqual(document);
        expect(await store.getDocumentContent(document.id)).toStrictEqual({ content: 'Some text.', revision: 1 });
        expect((await store.listDocuments(other.id, { limit: 10 })).items).toEqual([]);
      });

      it('reads unknown and malformed document ids as absent', async () => {
        const organisation = await newOrganisation();
        const input = { title: 'x', format: 'text' as const, content: 'x' };
        for (const id of [UNKNOWN_ID, ...MALFORMED_IDS]) {
          expect(await store.getDocument(organisation.id, id)).toBeNull();
          expect(await store.getDocumentContent(id)).toBeNull();
          expect(await store.replaceDocumentContent(organisation.id, id, input)).toBeNull();
          expect(await store.updateDocumentStatus(id, 1, { status: 'ready' })).toBe(false);
          expect(await store.replaceChunks(id, 1, makeChunks(1))).toBeNull();
          expect(await store.deleteDocument(organisation.id, id)).toBe(false);
        }
      });

      it('deletes a document with its content and chunks only', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id);
        const kept = await newDocument(organisation.id, { title: 'kept' });
        const chunks = await ingest(document, makeChunks(3));
        const keptChunks = await ingest(kept, makeChunks(2, 'kept'));

        expect(await store.deleteDocument(organisation.id, document.id)).toBe(true);
        expect(await store.getDocument(organisation.id, document.id)).toBeNull();
        expect(await store.getDocumentContent(document.id)).toBeNull();
        expect(await store.getChunks(ids(chunks))).toEqual([]);
        expect(await store.listOrganisationChunks(organisation.id)).toStrictEqual(keptChunks);
        expect(await store.updateDocumentStatus(document.id, 1, { status: 'ready' })).toBe(false);
        expect(await store.replaceChunks(document.id, 1, makeChunks(1))).toBeNull();
        expect(await store.getChunks(ids(chunks))).toEqual([]);
        expect(await store.deleteDocument(organisation.id, document.id)).toBe(false);

        expect(await store.listDocuments(organisation.id, { limit: 10 })).toStrictEqual({
          items: [await store.getDocument(organisation.id, kept.id)],
          nextCursor: null,
        });
      });
    });

    describe('chunks', () => {
      it("stores chunks with new ids, the document's title and organisation, and sets the chunk count", async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id, { title: 'Policy' });
        const input = makeChunks(3);
        const stored = await store.replaceChunks(document.id, 1, input);
        expect(stored).toStrictEqual(
          input.map((chunk, i) => ({
            ...chunk,
            id: stored?.[i]?.id,
            organisationId: organisation.id,
            documentId: document.id,
            title: 'Policy',
          })),
        );
        expect(stored?.every((chunk) => isObjectId(chunk.id))).toBe(true);
        expect(new Set(stored?.map((chunk) => chunk.id)).size).toBe(3);
        expect(Object.keys(stored?.[0] ?? {}).sort()).toEqual(['documentId', 'id', 'index', 'language', 'organisationId', 'text', 'title']);
        expect(stored?.[1]?.heading).toBe('Heading 1');
        expect(await store.getChunks(ids(stored ?? []))).toStrictEqual(stored);
        expect(await store.getDocument(organisation.id, document.id)).toMatchObject({ chunkCount: 3, status: 'queued' });
      });

      it('replaces the chunks rather than adding to them', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id);
        const first = await ingest(document, makeChunks(4, 'first'));
        const second = await ingest(document, makeChunks(2, 'second'));

        expect(ids(second).some((id) => ids(first).includes(id))).toBe(false);
        expect(await store.getChunks(ids(first))).toEqual([]);
        expect(await store.getChunks([...ids(first), ...ids(second)])).toStrictEqual(second);
        expect(await store.listOrganisationChunks(organisation.id)).toStrictEqual(second);
        expect(await store.getDocument(organisation.id, document.id)).toMatchObject({ chunkCount: 2 });

        expect(await ingest(document, [])).toEqual([]);
        expect(await store.getChunks(ids(second))).toEqual([]);
        expect(await store.listOrganisationChunks(organisation.id)).toEqual([]);
        expect(await store.getDocument(organisation.id, document.id)).toMatchObject({ chunkCount: 0, status: 'ready' });
      });

      it('refuses chunks for a stale revision and keeps the current ones', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id);
        const current = await ingest(document, makeChunks(2));
        const replaced = await store.replaceDocumentContent(organisation.id, document.id, {
          title: 'v2',
          format: 'text',
          content: 'v2',
        });

        expect(await store.replaceChunks(document.id, 1, makeChunks(5, 'stale'))).toBeNull();
        expect(await store.replaceChunks(document.id, 3, makeChunks(5, 'future'))).toBeNull();
        expect(await store.getChunks(ids(current))).toStrictEqual(current);
        expect(await store.getDocument(organisation.id, document.id)).toStrictEqual(replaced);

        const fresh = await store.replaceChunks(document.id, 2, makeChunks(1, 'fresh'));
        expect(fresh?.map((chunk) => [chunk.text, chunk.title])).toEqual([['fresh 0', 'v2']]);
        expect(await store.getChunks(ids(current))).toEqual([]);
      });

      it('refuses repeated or invalid indexes without writing anything', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id);
        const current = await ingest(document, makeChunks(2));
        const bad: NewChunk[][] = [
          [...makeChunks(2), { index: 1, text: 'again', language: 'en' }],
          [{ index: -1, text: 'negative', language: 'en' }],
          [{ index: 0.5, text: 'fraction', language: 'en' }],
        ];
        for (const chunks of bad) {
          await expect(store.replaceChunks(document.id, 1, chunks)).rejects.toThrow(RangeError);
        }
        expect(await store.listOrganisationChunks(organisation.id)).toStrictEqual(current);
        expect(await store.getDocument(organisation.id, document.id)).toMatchObject({ chunkCount: 2 });
      });

      it('keeps one set of chunks when the same revision is written concurrently', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id);
        const results = await Promise.all(['a', 'b', 'c'].map((label) => store.replaceChunks(document.id, 1, makeChunks(4, label))));
        expect(results.every((result) => result?.length === 4)).toBe(true);
        await store.updateDocumentStatus(document.id, 1, { status: 'ready' });

        const listed = await store.listOrganisationChunks(organisation.id);
        expect(listed.map((chunk) => chunk.index)).toEqual([0, 1, 2, 3]);
        expect(new Set(listed.map((chunk) => chunk.text.split(' ')[0])).size).toBe(1);
        const everyId = results.flatMap((result) => ids(result ?? []));
        expect(await store.getChunks(everyId)).toStrictEqual(listed);
      });

      it('returns the chunks asked for in that order, once each, skipping unknown and malformed ids', async () => {
        const organisation = await newOrganisation();
        const [c0, c1, c2] = await ingest(await newDocument(organisation.id), makeChunks(3));
        const [d0] = await ingest(await newDocument((await newOrganisation()).id), makeChunks(1, 'other'));
        if (!c0 || !c1 || !c2 || !d0) throw new Error('chunks were not stored');

        expect(await store.getChunks([c2.id, UNKNOWN_ID, c0.id, ...MALFORMED_IDS, c2.id, d0.id])).toStrictEqual([c2, c0, d0]);
        expect(await store.getChunks([])).toEqual([]);
        expect(await store.getChunks([UNKNOWN_ID, ...MALFORMED_IDS])).toEqual([]);
      });

      it("lists the current chunks of the organisation's documents, whatever their status, by document and index", async () => {
        const organisation = await newOrganisation();
        const other = await newOrganisation();
        const first = await newDocument(organisation.id, { title: 'first' });
        const processing = await newDocument(organisation.id, { title: 'processing' });
        const failed = await newDocument(organisation.id, { title: 'failed' });
        const empty = await newDocument(organisation.id, { title: 'no chunks yet' });
        const second = await newDocument(organisation.id, { title: 'second' });
        const elsewhere = await newDocument(other.id, { title: 'elsewhere' });

        // Given out of order, to check the listing's order.
        const committed = [
          ...(await ingest(second, makeChunks(3, 'second').reverse())),
          ...(await ingest(first, makeChunks(4, 'first').reverse())),
          ...((await store.replaceChunks(processing.id, 1, makeChunks(2, 'processing'))) ?? []),
          ...((await store.replaceChunks(failed.id, 1, makeChunks(2, 'failed'))) ?? []),
        ];
        await store.updateDocumentStatus(processing.id, 1, { status: 'processing', progress: 80 });
        await store.updateDocumentStatus(failed.id, 1, { status: 'failed', error: 'index write failed' });
        const otherChunks = await ingest(elsewhere, makeChunks(2, 'elsewhere'));

        const listed = await store.listOrganisationChunks(organisation.id);
        expect(listed).toStrictEqual([...committed].sort(byDocumentAndIndex));
        expect(listed.some((chunk) => chunk.documentId === empty.id)).toBe(false);
        expect(listed.every((chunk) => chunk.organisationId === organisation.id)).toBe(true);
        expect(await store.listOrganisationChunks(other.id)).toStrictEqual(otherChunks);
        expect(await store.listOrganisationChunks((await newOrganisation()).id)).toEqual([]);
      });

      it('keeps a re-uploaded document listed with its previous chunks until the new ones replace them', async () => {
        const organisation = await newOrganisation();
        const document = await newDocument(organisation.id, { title: 'v1' });
        const v1 = await ingest(document, makeChunks(2, 'v1'));
        expect(await store.listOrganisationChunks(organisation.id)).toStrictEqual(v1);

        const replaced = await store.replaceDocumentContent(organisation.id, document.id, {
          title: 'v2',
          format: 'text',
          content: 'v2',
        });
        if (!replaced) throw new Error('document vanished');
        expect(await store.listOrganisationChunks(organisation.id)).toStrictEqual(v1);

        const v2 = await store.replaceChunks(document.id, 2, makeChunks(3, 'v2'));
        expect(await store.listOrganisationChunks(organisation.id)).toStrictEqual(v2);
        expect(v2?.every((chunk) => chunk.title === 'v2')).toBe(true);
      });

      it('keeps organisations apart', async () => {
        const a = await newOrganisation('A');
        const b = await newOrganisation('B');
        const docA = await newDocument(a.id, { title: 'Same title', content: 'alpha' });
        const docB = await newDocument(b.id, { title: 'Same title', content: 'beta' });
        const chunksA = await ingest(docA, makeChunks(2, 'alpha'));
        const chunksB = await ingest(docB, makeChunks(2, 'beta'));

        expect(ids((await store.listDocuments(a.id, { limit: 10 })).items)).toEqual([docA.id]);
        expect(ids((await store.listDocuments(b.id, { limit: 10 })).items)).toEqual([docB.id]);
        expect(await store.listOrganisationChunks(a.id)).toStrictEqual(chunksA);
        expect(await store.listOrganisationChunks(b.id)).toStrictEqual(chunksB);
        expect(chunksB.every((chunk) => chunk.organisationId === b.id)).toBe(true);
        expect(await store.getDocumentContent(docB.id)).toStrictEqual({ content: 'beta', revision: 1 });

        expect(await store.deleteDocument(a.id, docA.id)).toBe(true);
        expect(await store.listOrganisationChunks(b.id)).toStrictEqual(chunksB);
        expect(await store.getDocument(b.id, docB.id)).toMatchObject({ status: 'ready', chunkCount: 2 });
      });
    });

    describe('index versions', () => {
      const vector = (seed: number) => Float32Array.from({ length: 8 }, (_, i) => Math.fround(seed + i / 7));

      it('starts at 0 and grows with every chunk replacement and deletion, in its organisation only', async () => {
        const organisation = await newOrganisation();
        const other = await newOrganisation();
        expect(await store.getIndexVersion(organisation.id)).toBe(0);
        const document = await newDocument(organisation.id);
        expect(await store.getIndexVersion(organisation.id)).toBe(0);

        await ingest(document, makeChunks(2));
        expect(await store.getIndexVersion(organisation.id)).toBe(1);
        await store.updateDocumentStatus(document.id, 1, { status: 'processing', progress: 50 });
        expect(await store.getIndexVersion(organisation.id)).toBe(1);
        expect(await store.replaceChunks(document.id, 9, makeChunks(1))).toBeNull();
        expect(await store.getIndexVersion(organisation.id)).toBe(1);
        await ingest(document, makeChunks(3));
        expect(await store.getIndexVersion(organisation.id)).toBe(2);
        expect(await store.deleteDocument(organisation.id, document.id)).toBe(true);
        expect(await store.getIndexVersion(organisation.id)).toBe(3);
        expect(await store.deleteDocument(organisation.id, document.id)).toBe(false);
        expect(await store.getIndexVersion(organisation.id)).toBe(3);

        expect(await store.getIndexVersion(other.id)).toBe(0);
        expect(await store.getIndexVersion(UNKNOWN_ID)).toBe(0);
        for (const id of MALFORMED_IDS) expect(await store.getIndexVersion(id)).toBe(0);
      });

      it('counts every one of concurrent changes', async () => {
        const organisation = await newOrganisation();
        const documents = await Promise.all([1, 2, 3, 4, 5].map(() => newDocument(organisation.id)));
        await Promise.all(documents.map((document) => store.replaceChunks(document.id, 1, makeChunks(2))));
        expect(await store.getIndexVersion(organisation.id)).toBe(5);
      });

      it('lists the documents with chunks and a chunk set that changes with every replacement', async () => {
        const organisation = await newOrganisation();
        const first = await newDocument(organisation.id);
        const second = await newDocument(organisation.id);
        await newDocument(organisation.id, { title: 'never chunked' });
        await ingest(first, makeChunks(1));
        await ingest(second, []);
        const listed = await store.listIndexedDocuments(organisation.id);
        expect(listed.map((entry) => entry.documentId).sort()).toEqual([first.id, second.id].sort());

        await ingest(first, makeChunks(2));
        const again = await store.listIndexedDocuments(organisation.id);
        const setOf = (entries: typeof listed, id: string) => entries.find((entry) => entry.documentId === id)?.chunkSet;
        expect(setOf(again, first.id)).not.toBe(setOf(listed, first.id));
        expect(setOf(again, second.id)).toBe(setOf(listed, second.id));

        await store.deleteDocument(organisation.id, first.id);
        expect((await store.listIndexedDocuments(organisation.id)).map((entry) => entry.documentId)).toEqual([second.id]);
        expect(await store.listIndexedDocuments((await newOrganisation()).id)).toEqual([]);
        expect(await store.listIndexedDocuments('nope')).toEqual([]);
      });

      it('returns the current chunks of the documents asked for with their vectors, within the organisation', async () => {
        const organisation = await newOrganisation();
        const other = await newOrganisation();
        const withVectors = await newDocument(organisation.id, { title: 'Vectors' });
        const without = await newDocument(organisation.id, { title: 'Plain' });
        const elsewhere = await newDocument(other.id);
        await ingest(
          withVectors,
          makeChunks(2, 'stale').map((chunk, i) => ({ ...chunk, vector: vector(10 + i) })),
        );
        const stored = await ingest(
          withVectors,
          makeChunks(3, 'fresh').map((chunk, i) => ({ ...chunk, vector: vector(i) })),
        );
        const plain = await ingest(without, makeChunks(1, 'plain'));
        await ingest(elsewhere, makeChunks(1, 'foreign'));

        expect(Object.keys(stored[0] ?? {})).not.toContain('vector');
        expect(await store.getChunks(ids(stored))).toStrictEqual(stored);
        expect(await store.listOrganisationChunks(organisation.id)).toStrictEqual([...stored, ...plain].sort(byDocumentAndIndex));

        const chunks = await store.getIndexChunks(organisation.id, [withVectors.id, without.id, elsewhere.id, 'nope', UNKNOWN_ID]);
        const expected = [
          ...stored.map((chunk, i) => ({
            chunkId: chunk.id,
            documentId: withVectors.id,
            text: chunk.text,
            title: 'Vectors',
            vector: vector(i),
          })),
          ...plain.map((chunk) => ({ chunkId: chunk.id, documentId: without.id, text: chunk.text, title: 'Plain' })),
        ].map((chunk, i) => (i === 1 ? { ...chunk, heading: 'Heading 1' } : chunk));
        // By document, then index (the sort is stable).
        expect(chunks).toStrictEqual(expected.sort((a, b) => (a.documentId === b.documentId ? 0 : a.documentId < b.documentId ? -1 : 1)));
        expect(await store.getIndexChunks(organisation.id, [])).toEqual([]);
        expect(await store.getIndexChunks(other.id, [withVectors.id])).toEqual([]);
      });
    });
  });
}
