import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { VectorStore } from './vector-store.ts';

// The behaviour every VectorStore adapter must share, run by each adapter's
// test file against a fresh store. Organisation ids are unique per test so
// that a shared server (Milvus) needs no cleanup between tests.

export interface VectorStoreFixture {
  store: VectorStore;
  dimensions: number;
  /** Runs after the store is closed (e.g. removes a temporary directory). */
  cleanup?: () => Promise<void>;
}

export function describeVectorStoreContract(name: string, create: () => Promise<VectorStoreFixture>): void {
  describe(`${name}: vector store contract`, () => {
    let fixture: VectorStoreFixture;
    let org: string;
    let otherOrg: string;

    beforeEach(async () => {
      fixture = await create();
      org = `org-${randomUUID()}`;
      otherOrg = `org-${randomUUID()}`;
    });

    afterEach(async () => {
      await fixture.store.close();
      await fixture.cleanup?.();
    });

    /** A unit vector along axis `i` (plus a little of axis i+1 when `tilt` is given). */
    function axis(i: number, tilt = 0): Float32Array {
      const vector = new Float32Array(fixture.dimensions);
      vector[i % fixture.dimensions] = 1;
      vector[(i + 1) % fixture.dimensions] = tilt;
      return vector;
    }

    it('returns nothing for an organisation without data', async () => {
      expect(await fixture.store.search(org, axis(0), 5)).toEqual([]);
    });

    it('returns the nearest chunks first, with cosine scores', async () => {
      await fixture.store.upsert([
        { chunkId: 'a', documentId: 'd1', organisationId: org, vector: axis(0) },
        { chunkId: 'b', documentId: 'd1', organisationId: org, vector: axis(0, 1) },
        { chunkId: 'c', documentId: 'd2', organisationId: org, vector: axis(2) },
      ]);
      const hits = await fixture.store.search(org, axis(0), 2);
      expect(hits.map((hit) => hit.chunkId)).toEqual(['a', 'b']);
      expect(hits[0]?.documentId).toBe('d1');
      expect(hits[0]?.score).toBeCloseTo(1, 4);
      expect(hits[1]?.score).toBeCloseTo(Math.SQRT1_2, 3);
    });

    it('returns every chunk when k exceeds the count', async () => {
      await fixture.store.upsert([
        { chunkId: 'a', documentId: 'd1', organisationId: org, vector: axis(0) },
        { chunkId: 'b', documentId: 'd1', organisationId: org, vector: axis(1) },
      ]);
      expect((await fixture.store.search(org, axis(0), 10)).map((hit) => hit.chunkId).sort()).toEqual(['a', 'b']);
    });

    it('searches within one organisation only', async () => {
      await fixture.store.upsert([
        { chunkId: 'mine', documentId: 'd', organisationId: org, vector: axis(3, 0.5) },
        { chunkId: 'theirs', documentId: 'd', organisationId: otherOrg, vector: axis(3) },
      ]);
      expect((await fixture.store.search(org, axis(3), 5)).map((hit) => hit.chunkId)).toEqual(['mine']);
      expect((await fixture.store.search(otherOrg, axis(3), 5)).map((hit) => hit.chunkId)).toEqual(['theirs']);
    });

    it('replaces a chunk upserted again', async () => {
      await fixture.store.upsert([{ chunkId: 'a', documentId: 'd1', organisationId: org, vector: axis(0) }]);
      await fixture.store.upsert([{ chunkId: 'a', documentId: 'd1', organisationId: org, vector: axis(4) }]);
      const hits = await fixture.store.search(org, axis(4), 5);
      expect(hits.map((hit) => hit.chunkId)).toEqual(['a']);
      expect(hits[0]?.score).toBeCloseTo(1, 4);
    });

    it("deletes one document's chunks, in one organisation only", async () => {
      await fixture.store.upsert([
        { chunkId: 'a1', documentId: 'd1', organisationId: org, vector: axis(0) },
        { chunkId: 'a2', documentId: 'd1', organisationId: org, vector: axis(1) },
        { chunkId: 'b1', documentId: 'd2', organisationId: org, vector: axis(0, 0.2) },
        { chunkId: 'x1', documentId: 'd1', organisationId: otherOrg, vector: axis(0) },
      ]);
      await fixture.store.deleteDocument(org, 'd1');
      expect((await fixture.store.search(org, axis(0), 5)).map((hit) => hit.chunkId)).toEqual(['b1']);
      expect((await fixture.store.search(otherOrg, axis(0), 5)).map((hit) => hit.chunkId)).toEqual(['x1']);
      await fixture.store.deleteDocument(org, 'unknown');
      await fixture.store.upsert([{ chunkId: 'a1', documentId: 'd1', organisationId: org, vector: axis(0) }]);
      expect((await fixture.store.search(org, axis(0), 5)).map((hit) => hit.chunkId)).toEqual(['a1', 'b1']);
    });

    it('rejects vectors of the wrong length', async () => {
      const wrong = new Float32Array(fixture.dimensions + 1);
      wrong[0] = 1;
      await expect(fixture.store.upsert([{ chunkId: 'a', documentId: 'd', organisationId: org, vector: wrong }])).rejects.toThrow(
        /dimensions/,
      );
      await expect(fixture.store.search(org, wrong, 3)).rejects.toThrow(/dimensions/);
    });
  });
}
