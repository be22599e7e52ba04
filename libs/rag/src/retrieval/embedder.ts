/**
 * Turns texts into vectors for the vector store. Implementations return one
 * L2-normalised vector of `dimensions` floats per input text, in input order,
 * so that cosine similarity is a dot product everywhere downstream.
 */
export interface Embedder {
  /** Says what the vectors are (provider and model); stored with an index so a mismatch is visible. */
  readonly name: string;
  readonly dimensions: number;
  /**
   * True when closeness only reflects shared words and word pieces (the
   * offline hashing embedder), not meaning: hybrid retrieval then weights the
   * vector ranking below BM25, which ranks shared words better (it knows IDF).
   */
  readonly lexical?: boolean;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]>;
}

/** Scales `vector` in place to unit length (a zero vector stays zero) and returns it. */
export function l2Normalize(vector: Float32Array): Float32Array {
  let sum = 0;
  for (const value of vector) sum += value * value;
  if (sum === 0) return vector;
  const scale = 1 / Math.sqrt(sum);
  for (let i = 0; i < vector.length; i += 1) vector[i] = (vector[i] as number) * scale;
  return vector;
}

/** Dot product; the cosine similarity of two L2-normalised vectors. */
export function dot(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) throw new RangeError(`vector lengths differ: ${a.length} and ${b.length}`);
  let sum = 0;
  for (let i = 0; i < a.length; i += 1) sum += (a[i] as number) * (b[i] as number);
  return sum;
}
