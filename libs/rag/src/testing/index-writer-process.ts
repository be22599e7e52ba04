// A TEST HELPER run as a separate process (node --import tsx): it publishes
// versions of one organisation's vector index and BM25 index in a shared data
// directory, so that tests can check what another process sees meanwhile.
//   index-writer-process.ts <dataDir> <organisationId> <versions>
import { HnswVectorStore } from '../retrieval/hnsw-vector-store.ts';
import { KeywordIndexStore } from '../retrieval/keyword-index-store.ts';

const [dataDir, organisationId, versions] = process.argv.slice(2);
if (!dataDir || !organisationId || !versions) throw new Error('usage: index-writer-process.ts DATA_DIR ORG VERSIONS');

const vectors = new HnswVectorStore({ dataDir: `${dataDir}/vectors`, dimensions: 8 });
const keywords = new KeywordIndexStore({ dataDir: `${dataDir}/bm25` });
for (let v = 1; v <= Number(versions); v += 1) {
  // Version v adds chunk v: a reader must see exactly chunks 1..n for some n.
  const vector = new Float32Array(8).fill(1);
  vector[v % 8] = 2;
  await vectors.upsert([{ chunkId: `chunk-${v}`, documentId: `doc-${v}`, organisationId, vector }]);
  await keywords.rebuild(organisationId, () =>
    Array.from({ length: v * 50 }, (_, i) => ({
      chunkId: `v${v}-c${i}`,
      documentId: `d${i}`,
      text: `common words of version ${v} item ${i}`,
    })),
  );
}
await vectors.close();
await keywords.close();
