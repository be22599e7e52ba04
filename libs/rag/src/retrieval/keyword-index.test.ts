import { describe, expect, it } from 'vitest';
import type { KeywordChunk } from './keyword-index.ts';
import { buildKeywordIndex, KeywordIndex } from './keyword-index.ts';

const chunks: KeywordChunk[] = [
  { chunkId: 'c1', documentId: 'tesla', title: 'Nikola Tesla', text: 'Tesla was born in Smiljan in 1856.' },
  { chunkId: 'c2', documentId: 'tesla', title: 'Nikola Tesla', text: 'He moved to New York in 1884 to work for Edison.' },
  { chunkId: 'c3', documentId: 'delhi', title: 'दिल्ली', text: 'दिल्ली भारत की राजधानी है। यहाँ कई किताबें छपती हैं।' },
  { chunkId: 'c4', documentId: 'panthers', title: 'Super Bowl 50', text: 'The Panthers defense gave up just 308 points.' },
];

describe('keyword index (BM25 with wink)', () => {
  const index = KeywordIndex.load(buildKeywordIndex(chunks));

  it('ranks the chunk that shares the rarest terms first, with its document', () => {
    const hits = index.search('Where was Tesla born?', 5);
    expect(hits[0]).toMatchObject({ chunkId: 'c1', documentId: 'tesla' });
    expect(hits.map((hit) => hit.chunkId)).not.toContain('c4');
  });

  it('keeps Devanagari words and matches inflections through the Hindi stemmer', () => {
    expect(index.search('भारत की राजधानी क्या है?', 3)[0]?.chunkId).toBe('c3');
    expect(index.search('किताब', 3)[0]?.chunkId).toBe('c3');
  });

  it('searches titles too', () => {
    expect(index.search('super bowl', 3)[0]?.chunkId).toBe('c4');
  });

  it('returns nothing for queries without known terms, and at most k hits', () => {
    expect(index.search('the of and', 5)).toEqual([]);
    expect(index.search('zebra', 5)).toEqual([]);
    expect(index.search('Tesla 1884 Panthers', 1)).toHaveLength(1);
  });

  it('handles corpora under three chunks, which wink alone cannot consolidate', () => {
    expect(KeywordIndex.load(buildKeywordIndex([])).search('anything', 5)).toEqual([]);
    const one = KeywordIndex.load(buildKeywordIndex(chunks.slice(0, 1)));
    expect(one.search('Smiljan', 5)).toEqual([expect.objectContaining({ chunkId: 'c1' })]);
    const two = KeywordIndex.load(buildKeywordIndex(chunks.slice(0, 2)));
    expect(two.search('Edison', 5).map((hit) => hit.chunkId)).toEqual(['c2']);
    expect(two.size).toBe(2);
  });

  it('round-trips through its serialised form with the same scores', () => {
    const json = buildKeywordIndex(chunks, { k1: 1.5, b: 0.5, titleWeight: 0 });
    const again = KeywordIndex.load(json);
    expect(again.search('Tesla New York', 4)).toEqual(KeywordIndex.load(json).search('Tesla New York', 4));
    expect(again.search('super bowl', 3)).toEqual([]);
    expect(() => KeywordIndex.load('{"format":99}')).toThrow(/format/);
  });
});
