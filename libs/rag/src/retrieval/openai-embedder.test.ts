import { APIConnectionTimeoutError, APIUserAbortError, BadRequestError } from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { errorBody, startScriptedOpenAIServer } from '../testing/scripted-openai-server.ts';
import type { ScriptedOpenAIServer, ScriptedRequest, ScriptedReply } from '../testing/scripted-openai-server.ts';
import { dot } from './embedder.ts';
import { OpenAIEmbedder } from './openai-embedder.ts';
import type { OpenAIEmbedderOptions } from './openai-embedder.ts';

interface EmbeddingsBody {
  model: string;
  input: string[];
  dimensions?: number;
  encoding_format?: string;
}

/** Answers like the real endpoint: one unnormalised vector per input, returned in reverse order (index says which). */
function embeddings(dimensions: number): (request: ScriptedRequest) => ScriptedReply {
  return (request) => {
    const body = request.body as EmbeddingsBody;
    const data = body.input.map((text, index) => ({
      object: 'embedding',
      index,
      embedding: Array.from({ length: dimensions }, (_, i) => (i === text.length % dimensions ? 3 : 0) + 1),
    }));
    return { json: { object: 'list', model: body.model, data: data.reverse(), usage: { prompt_tokens: 1, total_tokens: 1 } } };
  };
}

describe('OpenAIEmbedder against a scripted OpenAI-compatible server', () => {
  let server: ScriptedOpenAIServer;

  beforeEach(async () => {
    server = await startScriptedOpenAIServer({ '/v1/embeddings': embeddings(4) });
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
    const texts = ['a', 'bb', 'ccc', 'dddd', ''];
    const vectors = await embedder({ batchSize: 2 }).embed(texts);

    expect(server.requests.map((request) => (request.body as EmbeddingsBody).input)).toEqual([['a', 'bb'], ['ccc', 'dddd'], [' ']]);
    const first = server.requests[0] as ScriptedRequest;
    expect(first.headers.authorization).toBe('Bearer test-key');
    expect(first.body).toMatchObject({ model: 'test-embedding', dimensions: 4, encoding_format: 'float' });
    expect(vectors).toHaveLength(5);
    vectors.forEach((vector, i) => {
      expect(dot(vector, vector)).toBeCloseTo(1, 5);
      // The marked component tells which input a vector belongs to.
      expect(vector.indexOf(Math.max(...vector))).toBe((texts[i] as string).length === 0 ? 1 : (texts[i] as string).length % 4);
    });
    expect(embedder().name).toBe('openai:test-embedding');
  });

  it('leaves out `dimensions` for models that reject it', async () => {
    await embedder({ sendDimensions: false }).embed(['a']);
    expect(server.requests[0]?.body).not.toHaveProperty('dimensions');
  });

  it('retries a server error and succeeds', async () => {
    server.enqueue('/v1/embeddings', { status: 503, json: errorBody('overloaded') });
    const vectors = await embedder({ maxRetries: 1 }).embed(['a']);
    expect(vectors).toHaveLength(1);
    expect(server.requests).toHaveLength(2);
  });

  it('fails on a client error without retrying', async () => {
    server.enqueue('/v1/embeddings', { status: 400, json: errorBody('bad model', 'invalid_request_error') });
    await expect(embedder({ maxRetries: 2 }).embed(['a'])).rejects.toBeInstanceOf(BadRequestError);
    expect(server.requests).toHaveLength(1);
  });

  it('fails when the model returns vectors of another length than VECTOR_DIMENSIONS', async () => {
    await expect(embedder({ dimensions: 8 }).embed(['a'])).rejects.toThrow(/VECTOR_DIMENSIONS is 8/);
  });

  it('times out a request that never answers', async () => {
    server.enqueue('/v1/embeddings', { hang: true });
    const started = Date.now();
    await expect(embedder({ timeoutMs: 200 }).embed(['a'])).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('cancels the HTTP request when the signal aborts', async () => {
    server.enqueue('/v1/embeddings', { hang: true });
    const controller = new AbortController();
    const pending = embedder({ timeoutMs: 10_000 }).embed(['a'], controller.signal);
    await expect.poll(() => server.requests.length).toBe(1);
    controller.abort();
    await expect(pending).rejects.toBeInstanceOf(APIUserAbortError);
    await expect.poll(() => server.disconnects).toBe(1);
  });
});
