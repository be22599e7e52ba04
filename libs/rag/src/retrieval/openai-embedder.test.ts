import { APIConnectionTimeoutError, APIUserAbortError, BadRequestError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ScriptedEmbeddingsStep } from '../testing/scripted-openai-chat-server.ts';
import { ScriptedOpenAiChatServer } from '../testing/scripted-openai-chat-server.ts';
import { dot } from './embedder.ts';
import type { OpenAIEmbedderOptions } from './openai-embedder.ts';
import { OpenAIEmbedder } from './openai-embedder.ts';

/**
 * Answers like a real endpoint may: one unnormalised vector per input whose
 * marked (largest) component is the input's length mod `dimensions`, whatever
 * `dimensions` was asked for, and returned in reverse order (index says which).
 */
function marked(dimensions: number): ScriptedEmbeddingsStep {
  return (request) => ({
    type: 'embeddings',
    data: request.input
      .map((text, index) => ({
        index,
        embedding: Array.from({ length: dimensions }, (_, i) => (i === text.length % dimensions ? 3 : 0) + 1),
      }))
      .reverse(),
  });
}

describe('OpenAIEmbedder against a scripted OpenAI-compatible server', () => {
  let server: ScriptedOpenAiChatServer;

  beforeEach(async () => {
    // Unscripted embeddings requests get deterministic unit vectors of 4 dimensions unless the request asks for others.
    server = await ScriptedOpenAiChatServer.start({ embeddingDimensions: 4 });
  });

  afterEach(async () => {
    await server.close();
  });

  function embedder(options: Partial<OpenAIEmbedderOptions> = {}): OpenAIEmbedder {
    return new OpenAIEmbedder({
      apiKey: 'test-key',
      baseURL: server.baseURL,
      model: 'test-embedding',
      dimensions: 4,
      maxRetries: 0,
      ...options,
    });
  }

  it('sends batches with the model, dimensions and key, and returns unit vectors in input order', async () => {
    server.enqueueEmbeddings(marked(4), marked(4), marked(4));
    const texts = ['a', 'bb', 'ccc', 'dddd', ''];
    const vectors = await embedder({ batchSize: 2 }).embed(texts);

    expect(server.requests.map((request) => request.input)).toEqual([['a', 'bb'], ['ccc', 'dddd'], [' ']]);
    const first = server.requests[0];
    expect(first?.path).toBe('/v1/embeddings');
    expect(first?.headers['authorization']).toBe('Bearer test-key');
    expect(first?.body).toMatchObject({ model: 'test-embedding', dimensions: 4, encoding_format: 'float' });
    expect(vectors).toHaveLength(5);
    vectors.forEach((vector, i) => {
      expect(dot(vector, vector)).toBeCloseTo(1, 5);
      // The marked component tells which input a vector belongs to.
      expect(vector.indexOf(Math.max(...vector))).toBe((texts[i] as string).length === 0 ? 1 : (texts[i] as string).length % 4);
    });
    expect(embedder().name).toBe('openai:test-embedding');
  });

  it('leaves out `dimensions` for models that reject it', async () => {
    const vectors = await embedder({ sendDimensions: false }).embed(['a']);
    expect(vectors[0]).toHaveLength(4);
    expect(server.requests[0]?.body).not.toHaveProperty('dimensions');
  });

  it('retries a server error and succeeds', async () => {
    server.enqueueEmbeddings({ type: 'http-error', status: 503, message: 'overloaded' });
    const vectors = await embedder({ maxRetries: 1 }).embed(['a']);
    expect(vectors).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('fails on a client error without retrying', async () => {
    server.enqueueEmbeddings({ type: 'http-error', status: 400, message: 'bad model', errorType: 'invalid_request_error' });
    await expect(embedder({ maxRetries: 2 }).embed(['a'])).rejects.toBeInstanceOf(BadRequestError);
    expect(server.requests).toHaveLength(1);
  });

  it('fails when the model returns vectors of another length than VECTOR_DIMENSIONS', async () => {
    // The request asks for 8 dimensions; the model ignores that and answers with 4.
    server.enqueueEmbeddings(marked(4));
    await expect(embedder({ dimensions: 8 }).embed(['a'])).rejects.toThrow(/VECTOR_DIMENSIONS is 8/);
    expect(server.requests[0]?.body).toMatchObject({ dimensions: 8 });
  });

  it('times out a request that never answers', async () => {
    server.enqueueEmbeddings({ type: 'hang' });
    const started = Date.now();
    await expect(embedder({ timeoutMs: 200 }).embed(['a'])).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('cancels the HTTP request when the signal aborts', async () => {
    server.enqueueEmbeddings({ type: 'hang' });
    const controller = new AbortController();
    const pending = embedder({ timeoutMs: 10_000 }).embed(['a'], controller.signal);
    await expect.poll(() => server.requests.length).toBe(1);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
    // Settles only when the client closed the connection: a hanging reply never completes.
    const request = await server.waitUntilSettled(0);
    expect(request).toMatchObject({ clientClosed: true, completed: false });
    expect(server.requests).toHaveLength(1);
  });
});
