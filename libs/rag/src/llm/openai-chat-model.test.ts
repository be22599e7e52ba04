import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ScriptedOpenAiChatServer } from '../testing/scripted-openai-chat-server.ts';
import type { ChatTurn, ModelRequestReport, ModelUsage } from './chat-model.ts';
import { estimateTokens } from './chat-model.ts';
import { LlmError } from './llm-error.ts';
import type { OpenAiChatModelConfig } from './openai-chat-model.ts';
import { OpenAiChatModel } from './openai-chat-model.ts';

const MESSAGES: ChatTurn[] = [
  { role: 'system', content: 'Be brief.' },
  { role: 'user', content: 'What are your opening hours?' },
];
// Makes the SDK's retry back-off near-instant instead of 0.5 s or more.
const FAST_RETRY = { 'retry-after-ms': '10' };

let server: ScriptedOpenAiChatServer;

beforeEach(async () => {
  server = await ScriptedOpenAiChatServer.start();
});

afterEach(async () => {
  await server.close();
});

function model(overrides: Partial<OpenAiChatModelConfig> = {}): OpenAiChatModel {
  return new OpenAiChatModel({
    baseURL: server.baseURL,
    apiKey: 'test-key',
    model: 'scripted-chat',
    timeoutMs: 2_000,
    maxRetries: 0,
    ...overrides,
  });
}

async function collect(stream: AsyncIterable<string>): Promise<string[]> {
  const deltas: string[] = [];
  for await (const delta of stream) deltas.push(delta);
  return deltas;
}

async function caught(run: () => Promise<unknown>): Promise<unknown> {
  try {
    await run();
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('OpenAiChatModel against a scripted OpenAI-compatible server', () => {
  it('streams content deltas in order and sends the model, messages and options', async () => {
    server.enqueue({ type: 'text', tokens: ['We ', 'open ', 'at ', '9 ', 'am', '.'], tokenDelayMs: 5 });
    const chat = model();

    const deltas = await collect(chat.stream(MESSAGES, { signal: new AbortController().signal, temperature: 0.2, maxTokens: 64 }));

    expect(deltas).toEqual(['We ', 'open ', 'at ', '9 ', 'am', '.']);
    expect(chat.name).toBe('openai:scripted-chat');
    const [request] = server.chatRequests();
    expect(request?.model).toBe('scripted-chat');
    expect(request?.stream).toBe(true);
    expect(request?.messages).toEqual(MESSAGES);
    expect(request?.body).toMatchObject({ temperature: 0.2, max_tokens: 64 });
    expect(request?.headers['authorization']).toBe('Bearer test-key');
  });

  it('asks for usage when streaming and reports each request with its latency, outcome and tokens', async () => {
    const reports: ModelRequestReport[] = [];
    const chat = model({ onRequest: (report) => reports.push(report) });
    server.enqueue({ type: 'text', tokens: ['We ', 'open ', 'at ', '9.'] });
    server.enqueue({ type: 'text', tokens: ['Yes.'] });
    server.enqueue({ type: 'http-error', status: 400, message: 'bad request' });

    await collect(chat.stream(MESSAGES, { signal: new AbortController().signal }));
    await chat.complete(MESSAGES, { signal: new AbortController().signal });
    await caught(() => collect(chat.stream(MESSAGES, { signal: new AbortController().signal })));

    expect(server.chatRequests()[0]?.body).toMatchObject({ stream_options: { include_usage: true } });
    // The scripted server counts words: 7 in the prompt.
    expect(reports).toEqual([
      {
        model: 'scripted-chat',
        operation: 'stream',
        seconds: expect.any(Number),
        outcome: 'ok',
        usage: { promptTokens: 7, completionTokens: 4 },
      },
      {
        model: 'scripted-chat',
        operation: 'complete',
        seconds: expect.any(Number),
        outcome: 'ok',
        usage: { promptTokens: 7, completionTokens: 1 },
      },
      { model: 'scripted-chat', operation: 'stream', seconds: expect.any(Number), outcome: 'error' },
    ]);
    for (const report of reports) expect(report.seconds).toBeGreaterThan(0);
  });

  it('tells each call its usage for quotas: as reported, else estimated from the text, and stopped streams too', async () => {
    const usages: ModelUsage[] = [];
    const onUsage = (usage: ModelUsage): void => {
      usages.push(usage);
    };
    const chat = model();
    server.enqueue({ type: 'text', tokens: ['We ', 'open.'] });
    server.enqueue({ type: 'text', tokens: ['Yes.'] });
    server.enqueue({ type: 'stall', tokens: ['We ', 'open '] });
    server.enqueue({ type: 'http-error', status: 400, message: 'bad request' });

    await collect(chat.stream(MESSAGES, { signal: new AbortController().signal, onUsage }));
    await chat.complete(MESSAGES, { signal: new AbortController().signal, onUsage });
    // A stream stopped before the model's usage report: what it sent is estimated.
    const controller = new AbortController();
    await caught(async () => {
      for await (const delta of chat.stream(MESSAGES, { signal: controller.signal, onUsage })) {
        if (delta === 'open ') controller.abort(new Error('stop'));
      }
    });
    // Refused before any output: nothing to bill.
    await caught(() => collect(chat.stream(MESSAGES, { signal: new AbortController().signal, onUsage })));

    const promptEstimate = estimateTokens('Be brief.') + estimateTokens('What are your opening hours?');
    expect(usages).toEqual([
      { promptTokens: 7, completionTokens: 2 },
      { promptTokens: 7, completionTokens: 1 },
      { promptTokens: promptEstimate, completionTokens: estimateTokens('We open '), estimated: true },
    ]);
  });

  it('sends max_completion_tokens when configured to', async () => {
    server.enqueue({ type: 'text', tokens: ['ok'] });
    await model({ maxTokensField: 'max_completion_tokens' }).complete(MESSAGES, { signal: new AbortController().signal, maxTokens: 10 });
    const body = server.chatRequests()[0]?.body;
    expect(body).toMatchObject({ max_completion_tokens: 10 });
    expect(body).not.toHaveProperty('max_tokens');
  });

  it('retries an HTTP 500 and then streams the answer', async () => {
    server.enqueue(
      { type: 'http-error', status: 500, message: 'upstream exploded', headers: FAST_RETRY },
      { type: 'text', tokens: ['second ', 'time'] },
    );

    const deltas = await collect(model({ maxRetries: 1 }).stream(MESSAGES, { signal: new AbortController().signal }));

    expect(deltas.join('')).toBe('second time');
    expect(server.chatRequests()).toHaveLength(2);
  });

  it('fails with a retryable LlmError when 5xx outlasts the retries', async () => {
    server.enqueue({ type: 'http-error', status: 503, headers: FAST_RETRY }, { type: 'http-error', status: 503, headers: FAST_RETRY });
    const error = await caught(() => collect(model({ maxRetries: 1 }).stream(MESSAGES, { signal: new AbortController().signal })));
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ kind: 'server', status: 503, retryable: true });
  });

  it('maps a 400 to a non-retryable LlmError without retrying', async () => {
    server.enqueue({ type: 'http-error', status: 400, message: 'messages: bad role' });

    const error = await caught(() => collect(model({ maxRetries: 3 }).stream(MESSAGES, { signal: new AbortController().signal })));

    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ kind: 'rejected', status: 400, retryable: false });
    expect((error as LlmError).message).toContain('messages: bad role');
    expect(server.chatRequests()).toHaveLength(1);
  });

  it('maps a 429 to a retryable rate-limited LlmError', async () => {
    server.enqueue({ type: 'http-error', status: 429, message: 'slow down' });
    const error = await caught(() => model().complete(MESSAGES, { signal: new AbortController().signal }));
    expect(error).toMatchObject({ kind: 'rate-limited', status: 429, retryable: true });
  });

  it('times out on a server that never answers, within the timeout', async () => {
    server.enqueue({ type: 'hang' });
    const started = performance.now();

    const error = await caught(() => collect(model({ timeoutMs: 300 }).stream(MESSAGES, { signal: new AbortController().signal })));

    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect(elapsed).toBeGreaterThanOrEqual(250);
    expect(elapsed).toBeLessThan(1_000);
    expect((await server.waitUntilSettled(0)).clientClosed).toBe(true);
  });

  it('times out on a stream that stalls mid-answer', async () => {
    server.enqueue({ type: 'stall', tokens: ['half ', 'an '] });
    const deltas: string[] = [];
    const started = performance.now();

    const error = await caught(async () => {
      for await (const delta of model({ timeoutMs: 300 }).stream(MESSAGES, { signal: new AbortController().signal })) deltas.push(delta);
    });

    expect(deltas).toEqual(['half ', 'an ']);
    expect(error).toMatchObject({ kind: 'timeout', retryable: true });
    expect(performance.now() - started).toBeLessThan(1_000);
    expect((await server.waitUntilSettled(0)).clientClosed).toBe(true);
  });

  it('does not time out while the consumer, not the server, is slow', async () => {
    server.enqueue({ type: 'text', tokens: ['a', 'b', 'c'] });
    const deltas: string[] = [];
    for await (const delta of model({ timeoutMs: 100 }).stream(MESSAGES, { signal: new AbortController().signal })) {
      deltas.push(delta);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    expect(deltas).toEqual(['a', 'b', 'c']);
  });

  it('maps a connection dropped mid-stream to a retryable LlmError', async () => {
    server.enqueue({ type: 'drop', tokens: ['par', 'tial'] });
    const error = await caught(() => collect(model().stream(MESSAGES, { signal: new AbortController().signal })));
    expect(error).toMatchObject({ kind: 'connection', retryable: true });
  });

  it('maps an in-stream error event to an LlmError', async () => {
    server.enqueue({ type: 'stream-error', tokens: ['so '], message: 'model overloaded' });
    const error = await caught(() => collect(model().stream(MESSAGES, { signal: new AbortController().signal })));
    expect(error).toBeInstanceOf(LlmError);
    expect(error).toMatchObject({ kind: 'server', retryable: true });
    expect((error as LlmError).message).toContain('model overloaded');
  });

  it('stops promptly on abort mid-stream, throws the abort reason and closes the HTTP request', async () => {
    const tokens = Array.from({ length: 50 }, (_, i) => `t${i} `);
    server.enqueue({ type: 'text', tokens, tokenDelayMs: 20 });
    const controller = new AbortController();
    const reason = new DOMException('stopped by the user', 'AbortError');
    const deltas: string[] = [];
    let abortedAt = 0;

    const error = await caught(async () => {
      for await (const delta of model().stream(MESSAGES, { signal: controller.signal })) {
        deltas.push(delta);
        if (deltas.length === 3) {
          // Abort from outside the loop, as a stop arriving from another node would.
          setTimeout(() => {
            abortedAt = performance.now();
            controller.abort(reason);
          }, 5);
        }
      }
    });
    const stoppedAfterMs = performance.now() - abortedAt;

    expect(error).toBe(reason);
    expect(error).not.toBeInstanceOf(LlmError);
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.length).toBeLessThan(10);
    expect(stoppedAfterMs).toBeLessThan(100);
    const request = await server.waitUntilSettled(0);
    expect(request.clientClosed).toBe(true);
    expect(request.completed).toBe(false);
  });

  it('closes the HTTP request when the consumer stops iterating early', async () => {
    server.enqueue({ type: 'text', tokens: Array.from({ length: 50 }, (_, i) => `t${i} `), tokenDelayMs: 20 });
    const deltas: string[] = [];
    for await (const delta of model().stream(MESSAGES, { signal: new AbortController().signal })) {
      deltas.push(delta);
      if (deltas.length === 2) break;
    }
    expect(deltas).toEqual(['t0 ', 't1 ']);
    expect((await server.waitUntilSettled(0)).clientClosed).toBe(true);
  });

  it('throws the default AbortError when aborted without a reason', async () => {
    server.enqueue({ type: 'hang' });
    const controller = new AbortController();
    const streamed = caught(() => collect(model().stream(MESSAGES, { signal: controller.signal })));
    // Aborted once the request is at the server, so that it is the open request that is aborted.
    await server.waitForRequest(0);
    controller.abort();
    const error = await streamed;
    expect(error).toMatchObject({ name: 'AbortError' });
    expect((await server.waitUntilSettled(0)).clientClosed).toBe(true);
  });

  it('stops at once when aborted during the retry back-off', async () => {
    // The SDK would sleep 5 s here without looking at the signal.
    server.enqueue({ type: 'http-error', status: 503, headers: { 'retry-after': '5' } }, { type: 'text', tokens: ['late'] });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 100);
    const started = performance.now();

    const error = await caught(() => collect(model({ maxRetries: 2 }).stream(MESSAGES, { signal: controller.signal })));

    expect(error).toMatchObject({ name: 'AbortError' });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('rejects at once with an already aborted signal, without a request', async () => {
    const controller = new AbortController();
    controller.abort();
    await expect(model().complete(MESSAGES, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });
    await expect(collect(model().stream(MESSAGES, { signal: controller.signal }))).rejects.toMatchObject({ name: 'AbortError' });
    expect(server.requests).toHaveLength(0);
  });

  it('complete() returns the whole text from a non-streamed reply', async () => {
    server.enqueue({ type: 'text', tokens: ['Opening ', 'hours ', 'are ', '9 to 5.'] });

    const text = await model().complete(MESSAGES, { signal: new AbortController().signal, temperature: 0 });

    expect(text).toBe('Opening hours are 9 to 5.');
    const [request] = server.chatRequests();
    expect(request?.stream).toBe(false);
    expect(request?.messages).toEqual(MESSAGES);
  });

  it('complete() cancels the HTTP request on abort', async () => {
    server.enqueue({ type: 'text', tokens: ['slow'], firstByteDelayMs: 5_000 });
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 50);

    await expect(model().complete(MESSAGES, { signal: controller.signal })).rejects.toMatchObject({ name: 'AbortError' });

    expect((await server.waitUntilSettled(0)).clientClosed).toBe(true);
  });

  it('rejects invalid timeout and retry settings', () => {
    expect(() => model({ timeoutMs: 0 })).toThrow(RangeError);
    expect(() => model({ maxRetries: -1 })).toThrow(RangeError);
  });
});
