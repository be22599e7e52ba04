import { describe, expect, it } from 'vitest';
import { dot } from './embedder.ts';
import { OfflineHashingEmbedder } from './offline-hashing-embedder.ts';

function norm(vector: Float32Array): number {
  return Math.sqrt(dot(vector, vector));
}

describe('OfflineHashingEmbedder', () => {
  const embedder = new OfflineHashingEmbedder();

  it('says what it is and returns unit vectors of the configured length', async () => {
    expect(embedder.name).toBe('offline-hashed-ngrams-512d');
    const vectors = await embedder.embed(['The Panthers defense gave up 308 points.', 'दिल्ली भारत की राजधानी है।', '', '?!']);
    expect(vectors).toHaveLength(4);
    for (const vector of vectors) {
      expect(vector).toHaveLength(512);
      expect(norm(vector)).toBeCloseTo(1, 5);
    }
    expect((await new OfflineHashingEmbedder({ dimensions: 64 }).embed(['x']))[0]).toHaveLength(64);
  });

  it('is deterministic across instances (every worker process embeds the same way)', async () => {
    const [a] = await embedder.embed(['Nikola Tesla was born in Smiljan.']);
    const [b] = await new OfflineHashingEmbedder().embed(['Nikola Tesla was born in Smiljan.']);
    expect(Array.from(a as Float32Array)).toEqual(Array.from(b as Float32Array));
  });

  it('puts texts that share words closer than texts that do not', async () => {
    const [query, related, unrelated] = await embedder.embed([
      'Where was Tesla born?',
      'Tesla was born in the village of Smiljan.',
      'The Panthers defense gave up just 308 points.',
    ]);
    expect(dot(query as Float32Array, related as Float32Array)).toBeGreaterThan(
      dot(query as Float32Array, unrelated as Float32Array) + 0.1,
    );
  });

  it('matches Hindi inflections and spelling variants through stems and character n-grams', async () => {
    const [query, inflected, variant, other] = await embedder.embed([
      'पैंथर्स डिफ़ेंस ने कितने अंक दिए?',
      'पैंथर्स की डिफ़ेन्स ने लीग में केवल 308 अंक दिए',
      'डिफेंस',
      'टेस्ला का जन्म स्मिलजान गाँव में हुआ था',
    ]);
    expect(dot(query as Float32Array, inflected as Float32Array)).toBeGreaterThan(0.3);
    expect(dot(query as Float32Array, other as Float32Array)).toBeLessThan(0.15);
    expect(dot(query as Float32Array, variant as Float32Array)).toBeGreaterThan(dot(query as Float32Array, other as Float32Array));
  });

  it('stops between texts when the signal aborts', async () => {
    const controller = new AbortController();
    controller.abort(new Error('stopped'));
    await expect(embedder.embed(['a'], controller.signal)).rejects.toThrow('stopped');
  });
});
