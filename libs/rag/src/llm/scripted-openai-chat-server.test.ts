// Checks the scripted OpenAI-compatible test double itself (wire format and
// embeddings), so that the provider tests above it can be trusted.
import OpenAI from 'openai';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { deterministicEmbedding, ScriptedOpenAiChatServer } from '../testing/scripted-openai-chat-server.ts';

let server: ScriptedOpenAiChatServer;

beforeEach(async () => {
  server = await ScriptedOpenAiChatServer.start({ embeddingDimensions: 8 });
});

afterEach(async () => {
  await server.close();
});

function sdk(): OpenAI {
  return new OpenAI({ baseURL: server.baseURL, apiKey: 'k', maxRetries: 0, organization: null, project: null });
}

describe('ScriptedOpenAiChatServer (test double)', () => {
  it('streams OpenAI SSE chunks ending in data: [DONE], with a usage chunk when asked', async () => {
    server.enqueue({ type: 'text', tokens: ['Hel', 'lo'] });
    const response = await fetch(`${server.baseURL}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'm',
        stream: true,
        stream_options: { include_usage: true },
        messages: [{ role: 'user', content: 'hi' }],
      }),
    });
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const raw = await response.text();
    const events = raw.split('\n\n').filter((event) => event !== '');
    expect(events.every((event) => event.startsWith('data: '))).toBe(true);
    expect(events.at(-1)).toBe('data: [DONE]');
    const payloads = events.slice(0, -1).map((event) => JSON.parse(event.slice('data: '.length)) as Record<string, unknown>);
    expect(payloads[0]).toMatchObject({
      object: 'chat.completion.chunk',
      model: 'm',
      choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }],
    });
    expect(payloads[1]).toMatchObject({ choices: [{ delta: { content: 'Hel' } }] });
    expect(payloads[2]).toMatchObject({ choices: [{ delta: { content: 'lo' } }] });
    expect(payloads[3]).toMatchObject({ choices: [{ delta: {}, finish_reason: 'stop' }] });
    expect(payloads[4]).toMatchObject({ choices: [], usage: { completion_tokens: 2 } });
    expect(server.requests[0]).toMatchObject({ model: 'm', stream: true, completed: true, clientClosed: false });
  });

  it('answers with an OpenAI-style error body, and a clear 400 when nothing is queued', async () => {
    server.enqueue({ type: 'http-error', status: 503, message: 'busy' });
    const error = await sdk()
      .chat.completions.create({ model: 'm', messages: [] })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 503, type: 'server_error', message: expect.stringContaining('busy') });
    const unscripted = await sdk()
      .chat.completions.create({ model: 'm', messages: [] })
      .catch((e: unknown) => e);
    expect(unscripted).toMatchObject({ status: 400, message: expect.stringContaining('no reply queued') });
  });

  it('takes script steps computed from the request', async () => {
    server.enqueue((request) => ({ type: 'text', tokens: [`echo: ${request.messages.at(-1)?.content ?? ''}`] }));
    const completion = await sdk().chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'ping' }] });
    expect(completion.choices[0]?.message.content).toBe('echo: ping');
  });

  it('returns deterministic embeddings in float and in the SDK default base64 encoding', async () => {
    const input = ['washing machine price', 'वॉशिंग मशीन की कीमत', 'washing machine price'];
    const viaBase64 = await sdk().embeddings.create({ model: 'e', input });
    const viaFloat = await sdk().embeddings.create({ model: 'e', input, encoding_format: 'float' });
    const expected = input.map((text) => deterministicEmbedding(text, 8));
    viaBase64.data.forEach((item, i) => {
      expect(item.embedding).toHaveLength(8);
      for (const [d, value] of item.embedding.entries()) expect(value).toBeCloseTo(expected[i]?.[d] ?? Number.NaN, 6);
    });
    expect(viaFloat.data.map((item) => item.embedding)).toEqual(expected);
    expect(viaFloat.data[0]?.embedding).toEqual(viaFloat.data[2]?.embedding);
    expect(viaFloat.data[0]?.embedding).not.toEqual(viaFloat.data[1]?.embedding);
    expect(server.requests.at(-1)?.input).toEqual(input);
  });

  it('honours requested dimensions and scripted embeddings errors', async () => {
    const sized = await sdk().embeddings.create({ model: 'e', input: 'x', dimensions: 32, encoding_format: 'float' });
    expect(sized.data[0]?.embedding).toHaveLength(32);
    server.enqueueEmbeddings({ type: 'http-error', status: 429 });
    await expect(sdk().embeddings.create({ model: 'e', input: 'x' })).rejects.toMatchObject({ status: 429 });
  });

  it('answers embeddings with given data, from a step computed from the request, in float and base64', async () => {
    const step = (request: { input: readonly string[] }) => ({
      type: 'embeddings' as const,
      data: request.input.map((text, index) => ({ index, embedding: [text.length, 0.5, -2] })).reverse(),
    });
    server.enqueueEmbeddings(step, step);
    const viaFloat = await sdk().embeddings.create({ model: 'e', input: ['a', 'bbb'], dimensions: 8, encoding_format: 'float' });
    expect(viaFloat.data).toEqual([
      { object: 'embedding', index: 1, embedding: [3, 0.5, -2] },
      { object: 'embedding', index: 0, embedding: [1, 0.5, -2] },
    ]);
    const viaBase64 = await sdk().embeddings.create({ model: 'e', input: ['a', 'bbb'] });
    expect(viaBase64.data.map((item) => item.embedding)).toEqual([
      [3, 0.5, -2],
      [1, 0.5, -2],
    ]);
    const unscripted = await sdk().embeddings.create({ model: 'e', input: 'a', encoding_format: 'float' });
    expect(unscripted.data[0]?.embedding).toEqual(deterministicEmbedding('a', 8));
  });

  it('gives similar vectors to texts that share words', () => {
    const cosine = (a: number[], b: number[]): number => a.reduce((sum, value, i) => sum + value * (b[i] ?? 0), 0);
    const base = deterministicEmbedding('delivery time for washing machines', 64);
    const close = deterministicEmbedding('washing machines delivery', 64);
    const far = deterministicEmbedding('opening hours on sunday', 64);
    expect(cosine(base, close)).toBeGreaterThan(cosine(base, far));
    expect(cosine(base, base)).toBeCloseTo(1, 10);
  });
});
