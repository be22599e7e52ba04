import { contentTokens } from '../tokenizer.ts';
import type { Embedder } from './embedder.ts';
import { l2Normalize } from './embedder.ts';

export interface OfflineHashingEmbedderOptions {
  /** Vector length (default 512). */
  dimensions?: number;
  /** Character n-gram lengths, inclusive (default 3 to 5). */
  minGram?: number;
  maxGram?: number;
  /**
   * Relative weight of each feature family in the cosine similarity (defaults:
   * words 1, word bigrams 0.5, character n-grams 0.5).
   */
  wordWeight?: number;
  bigramWeight?: number;
  charWeight?: number;
}

/**
 * The offline default embedder: feature hashing ("the hashing trick") of
 * stemmed content words, adjacent word pairs and character 3-5-grams of the
 * words into a fixed number of dimensions, with signed hashing (so that
 * collisions cancel out on average instead of adding up), sublinear term
 * frequency (1 + ln tf) and L2 normalisation.
 *
 * It is LEXICAL, not semantic: two texts are close when they share words or
 * word pieces, so it finds "वर्षों" for "वर्ष" and survives spelling variants,
 * but it does not know that "car" and "automobile" mean the same, nor match an
 * English question to a Hindi passage. It needs no model, no network and no
 * state (no vocabulary, no IDF), so every process embeds identically.
 * Configure an OpenAI-compatible model for semantic retrieval.
 */
export class OfflineHashingEmbedder implements Embedder {
  readonly name: string;
  readonly dimensions: number;
  readonly lexical = true;
  private readonly minGram: number;
  private readonly maxGram: number;
  private readonly weights: { word: number; bigram: number; char: number };

  constructor(options: OfflineHashingEmbedderOptions = {}) {
    this.dimensions = options.dimensions ?? 512;
    this.minGram = options.minGram ?? 3;
    this.maxGram = options.maxGram ?? 5;
    if (!Number.isInteger(this.dimensions) || this.dimensions < 2) {
      throw new RangeError(`dimensions must be an integer >= 2, not ${this.dimensions}`);
    }
    if (!(this.minGram >= 1 && this.maxGram >= this.minGram)) throw new RangeError('need 1 <= minGram <= maxGram');
    this.weights = { word: options.wordWeight ?? 1, bigram: options.bigramWeight ?? 0.5, char: options.charWeight ?? 0.5 };
    this.name = `offline-hashed-ngrams-${this.dimensions}d`;
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (const text of texts) {
      signal?.throwIfAborted();
      vectors.push(this.embedOne(text));
    }
    return vectors;
  }

  /** Synchronous embedding of one text (the work is CPU-only). */
  embedOne(text: string): Float32Array {
    const unstemmed = contentTokens(text);
    const words = contentTokens(text, { stem: true });
    const bigrams: string[] = [];
    for (let i = 1; i < words.length; i += 1) bigrams.push(`${words[i - 1]} ${words[i]}`);
    const grams: string[] = [];
    // Character n-grams of the unstemmed content words: they match inflections
    // and spelling variants that the stemmer misses. Boundary marks make
    // prefixes and suffixes features of their own.
    for (const token of unstemmed) {
      const padded = `<${token}>`;
      const chars = Array.from(padded);
      for (let n = this.minGram; n <= this.maxGram; n += 1) {
        for (let i = 0; i + n <= chars.length; i += 1) grams.push(chars.slice(i, i + n).join(''));
      }
    }

    const vector = new Float32Array(this.dimensions);
    this.addFamily(vector, 'w', words, this.weights.word);
    this.addFamily(vector, 'b', bigrams, this.weights.bigram);
    this.addFamily(vector, 'c', grams, this.weights.char);
    // A text without words (empty, punctuation) still gets a unit vector, as
    // the port promises: one fixed feature, so that it is near nothing else.
    if (words.length === 0 && grams.length === 0) vector[hash32('empty') % this.dimensions] = 1;
    return l2Normalize(vector);
  }

  /**
   * Adds one feature family, normalised to length sqrt(weight), so that the
   * cosine of two texts is close to the weighted mean of the per-family cosines
   * whatever the number of features of each family.
   */
  private addFamily(vector: Float32Array, family: string, features: readonly string[], weight: number): void {
    if (features.length === 0 || weight <= 0) return;
    const counts = new Map<string, number>();
    for (const feature of features) counts.set(feature, (counts.get(feature) ?? 0) + 1);
    const part = new Float32Array(this.dimensions);
    for (const [feature, count] of counts) {
      const hash = hash32(`${family}:${feature}`);
      const sign = hash & 0x80000000 ? -1 : 1;
      const slot = (hash & 0x7fffffff) % this.dimensions;
      part[slot] = (part[slot] as number) + sign * (1 + Math.log(count));
    }
    l2Normalize(part);
    const scale = Math.sqrt(weight);
    for (let i = 0; i < this.dimensions; i += 1) vector[i] = (vector[i] as number) + scale * (part[i] as number);
  }
}

/** FNV-1a over UTF-16 code units, then murmur3's finaliser so that every bit depends on every input bit. */
export function hash32(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i += 1) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b);
  hash ^= hash >>> 13;
  hash = Math.imul(hash, 0xc2b2ae35);
  hash ^= hash >>> 16;
  return hash >>> 0;
}
