import OpenAI from 'openai';
import type { Embedder } from './embedder.ts';
import { l2Normalize } from './embedder.ts';

export interface OpenAIEmbedderOptions {
  /** OPENAI_API_KEY; OpenAI-compatible servers that need none accept any string. */
  apiKey: string;
  /** OPENAI_BASE_URL, e.g. `http://localhost:11434/v1`; the SDK's default (api.openai.com) when unset. */
  baseURL?: string;
  /** EMBEDDING_MODEL, e.g. `text-embedding-3-small`. */
  model: string;
  /** VECTOR_DIMENSIONS: the vector length the vector store is built for; responses are checked against it. */
  dimensions: number;
  /**
   * Send `dimensions` in the request (default true) so that models that can
   * shorten their vectors (text-embedding-3-*) do so; turn off for servers or
   * models that reject the parameter.
   */
  sendDimensions?: boolean;
  /** Texts per request (default 64). */
  batchSize?: number;
  /** Per-request timeout (default 30 s). */
  timeoutMs?: number;
  /** Retries of a failed request (429, 5xx, connection errors) with the SDK's backoff (default 2). */
  maxRetries?: number;
}

/**
 * Embeddings from an OpenAI-compatible `/embeddings` endpoint through the
 * official SDK. Texts go in batches, one request at a time; the caller's
 * AbortSignal is passed to every request so that a stop cancels the HTTP call.
 * Vectors are L2-normalised here because not every compatible server does.
 */
export class OpenAIEmbedder implements Embedder {
  readonly name: string;
  readonly dimensions: number;
  private readonly client: OpenAI;
  private readonly model: string;
  private readonly sendDimensions: boolean;
  private readonly batchSize: number;

  constructor(options: OpenAIEmbedderOptions) {
    if (!Number.isInteger(options.dimensions) || options.dimensions < 1) {
      throw new RangeError(`dimensions must be a positive integer, not ${options.dimensions}`);
    }
    this.model = options.model;
    this.dimensions = options.dimensions;
    this.sendDimensions = options.sendDimensions ?? true;
    this.batchSize = Math.max(1, options.batchSize ?? 64);
    this.name = `openai:${options.model}`;
    this.client = new OpenAI({
      apiKey: options.apiKey,
      ...(options.baseURL ? { baseURL: options.baseURL } : {}),
      timeout: options.timeoutMs ?? 30_000,
      maxRetries: options.maxRetries ?? 2,
    });
  }

  async embed(texts: readonly string[], signal?: AbortSignal): Promise<Float32Array[]> {
    const vectors: Float32Array[] = [];
    for (let from = 0; from < texts.length; from += this.batchSize) {
      signal?.throwIfAborted();
      // The API rejects empty strings; a space embeds as "nothing" just as well.
      const input = texts.slice(from, from + this.batchSize).map((text) => (text.trim() === '' ? ' ' : text));
      const response = await this.client.embeddings.create(
        {
          model: this.model,
          input,
          encoding_format: 'float',
          ...(this.sendDimensions ? { dimensions: this.dimensions } : {}),
        },
        { signal: signal ?? null },
      );
      if (response.data.length !== input.length) {
        throw new Error(`embeddings response has ${response.data.length} vectors for ${input.length} inputs`);
      }
      const ordered = [...response.data].sort((a, b) => a.index - b.index);
      for (const item of ordered) {
        if (item.embedding.length !== this.dimensions) {
          throw new Error(`model ${this.model} returned ${item.embedding.length} dimensions, VECTOR_DIMENSIONS is ${this.dimensions}`);
        }
        vectors.push(l2Normalize(Float32Array.from(item.embedding)));
      }
    }
    return vectors;
  }
}
