import { describe, expect, it } from 'vitest';
import { IncrementalKeywordIndex } from './incremental-keyword-index.ts';
import type { KeywordChunk } from './keyword-index.ts';

const chunks: KeywordChunk[] = [
  { chunkId: 'c1', documentId: 'tesla', title: 'Nikola Tesla', text: 'Tesla was born in Smiljan in 1856.' },
  { chunkId: 'c2', documentId: 'tesla', title: 'Nikola Tesla', text: 'He moved to New York in 1884 to work for Edison.' },
  { chunkId: 'c3', documentId: 'delhi', title: 'दिल्ली', text: 'दिल्ली भारत की राजधानी है। यहाँ कई किताबें छपती हैं।' },
  { chunkId: 'c4', documentId: 'panthers', title: 'Super Bowl 50', text: 'The Panthers defense gave up just 308 points.' },
];

function indexOf(list: readonly KeywordChunk[]): IncrementalKeywordIndex {
  const index = new IncrementalKeywordIndex();
  for (const documentId of new Set(list.map((chunk) => chunk.documentId))) {
    index.addDocument(
      documentId,
      list.filter((chunk) => chunk.documentId === documentId),
    );
  }
  return index;
}

describe('incremental keyword index (BM25 with MiniSearch)', () => {
  const index = indexOf(chunks);

  it('ranks the chunk that shares the rarest terms first, with its document', () => {
    const hits = index.search('Where was Tesla born?', 5);
    expect(hits[0]).toMatchObject({ chunkId: 'c1', documentId: 'tesla' });
    expect(hits.map((hit) => hit.chunkId)).not.toContain('c4');
  });

  it('keeps Devanagari words and matches inflections through the Hindi stemmer', () => {
    expect(index.search('भारत की राजधानी क्या है?', 3)[0]?.chunkId).toBe('c3');
    expect(index.search('किताब', 3)[0]?.chunkId).toBe('c3');
  });

  it('searches titles too, unless their weight is 0', () => {
    expect(index.search('super bowl', 3)[0]?.chunkId).toBe('c4');
    const untitled = new IncrementalKeywordIndex({ titleWeight: 0 });
    untitled.addDocument('panthers', chunks.slice(3));
    expect(untitled.search('super bowl', 3)).toEqual([]);
  });

  it('returns nothing for queries without known terms, and at most k hits', () => {
    expect(index.search('the of and', 5)).toEqual([]);
    expect(index.search('zebra', 5)).toEqual([]);
    expect(index.search('Tesla 1884 Panthers', 1)).toHaveLength(1);
    expect(new IncrementalKeywordIndex().search('anything', 5)).toEqual([]);
  });

  it('drops and re-adds documents, scoring as an index built with the final documents only', () => {
    const changing = indexOf(chunks);
    changing.removeDocument('tesla');
    changing.removeDocument('unknown');
    expect(changing.search('Tesla Edison', 5)).toEqual([]);
    const edited = [{ chunkId: 'c9', documentId: 'tesla', text: 'Tesla worked for Edison in New York.' }];
    changing.addDocument('tesla', edited);
    expect(() => changing.addDocument('tesla', edited)).toThrow(/already indexed/);

    const fresh = indexOf([...chunks.slice(2), ...edited]);
    for (const query of ['Tesla Edison', 'New York Panthers', 'दिल्ली किताब']) {
      expect(changing.search(query, 5)).toEqual(fresh.search(query, 5));
    }
    expect(changing.size).toBe(3);
    expect(changing.bytes).toBe(fresh.bytes);
  });
});
