import type { ChatMessage, Page } from '@ragstream/protocol';
import { ScriptedOpenAiChatServer } from '@ragstream/rag/testing';
import { HttpClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOrganisation, uploadAndWait } from './knowledge-helpers.ts';

/**
 * The OpenAI provider end to end: worker processes talk to a scripted
 * OpenAI-compatible server (a test double run by this test) through the real SDK.
 */
describe('RAG with an OpenAI-compatible model, and stop during retrieval and generation', () => {
  let server: ScriptedOpenAiChatServer;
  let cluster: TestCluster;
  let http: HttpClient;
  let organisationId: string;

  beforeAll(async () => {
    server = await ScriptedOpenAiChatServer.start({ embeddingDimensions: 64 });
    cluster = await TestCluster.start({
      apis: 1,
      workers: 1,
      env: {
        LLM_PROVIDER: 'openai',
        EMBEDDINGS_PROVIDER: 'openai',
        OPENAI_BASE_URL: server.baseURL,
        OPENAI_API_KEY: 'test',
        VECTOR_DIMENSIONS: '64',
        LLM_MAX_RETRIES: '0',
      },
    });
    http = new HttpClient(cluster.api());
    organisationId = await createOrganisation(http, { name: 'Acme Store', tone: 'brief' });
    await uploadAndWait(http, organisationId, {
      title: 'Shipping',
      content: 'Express shipping costs 12 euros and arrives the next day. Standard shipping takes 3 to 5 days.',
    });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
    await server?.close();
  });

  async function start(question: string): Promise<{ client: WsChatClient; chatId: string; generationId: string }> {
    const { body } = await http.post<{ id: string }>('/chat/', { userId: 'u1', organisationId });
    const client = await WsChatClient.connect(cluster.api(), body.id);
    client.send({ mt: 'message_upload', message: question, userId: 'u1' });
    const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    return { client, chatId: body.id, generationId };
  }

  it('streams the model answer, grounded in the passages and the organisation context', async () => {
    const before = server.requests.length;
    server.enqueue(
      { type: 'text', tokens: ['एक्सप्रेस शिपिंग की कीमत क्या है'] },
      { type: 'text', tokens: ['Express ', 'costs ', '12 euros [1].'] },
    );
    const { client, generationId } = await start('How much is express shipping?');
    const done = await client.collector.waitForTerminal(generationId);
    expect(done).toMatchObject({ status: 'complete', text: 'Express costs 12 euros [1].', grounded: true, language: 'en' });
    expect(done.sources.some((s) => s.cited)).toBe(true);
    const answerRequest = server.requests.slice(before).find((r) => r.stream);
    const prompt = answerRequest?.messages.map((m) => m.content).join('\n') ?? '';
    expect(prompt).toContain('Acme Store');
    expect(prompt).toContain('Express shipping costs 12 euros');
    await client.close();
  });

  it('stop during generation aborts the model request and stores exactly the streamed text', async () => {
    server.enqueue({ type: 'text', tokens: ['translated query'] }, { type: 'stall', tokens: ['Express ', 'shipping '] });
    const { client, chatId, generationId } = await start('Tell me about express shipping');
    await client.collector.waitFor(() => client.collector.textOf(generationId) === 'Express shipping ');
    const streamRequest = server.requests.at(-1);
    client.send({ mt: 'stop' });
    const done = await client.collector.waitForTerminal(generationId, 5_000);
    expect(done).toMatchObject({ status: 'stopped', text: 'Express shipping ' });
    expect((await server.waitUntilSettled(streamRequest?.index ?? -1)).clientClosed).toBe(true);
    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    expect(body.items.find((m) => m.role === 'bot')).toMatchObject({ status: 'stopped', text: 'Express shipping ' });
    await client.close();
  });

  it('stop during retrieval aborts the embedding request; the answer is stored as stopped and empty', async () => {
    server.enqueue({ type: 'text', tokens: ['translated query'] });
    server.enqueueEmbeddings({ type: 'hang' });
    const before = server.requests.length;
    const { client, chatId, generationId } = await start('Is there a shipping option for tomorrow?');
    await client.collector.waitForMt('chat_message_bot_status', (f) => f.stage === 'searching');
    const embedding = await waitForRequest(server, before, '/v1/embeddings');
    client.send({ mt: 'stop' });
    const done = await client.collector.waitForTerminal(generationId, 5_000);
    expect(done).toMatchObject({ status: 'stopped', text: '' });
    expect((await server.waitUntilSettled(embedding.index)).clientClosed).toBe(true);
    expect(client.frames.some((f) => f.mt === 'chat_message_bot_status' && f.stage === 'generating')).toBe(false);
    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    expect(body.items.find((m) => m.role === 'bot')).toMatchObject({ status: 'stopped', text: '' });
    await client.close();
  });

  it('a model that rejects the request (401) fails the answer after one call, without retries', async () => {
    const before = server.chatRequests().length;
    server.enqueue({ type: 'http-error', status: 401, message: 'Incorrect API key provided' });
    const { client, chatId, generationId } = await start('How much is express shipping?');
    const done = await client.collector.waitForTerminal(generationId);
    expect(done).toMatchObject({ status: 'failed', attempt: 1 });
    expect(done.error).toMatch(/API key/);
    expect(server.chatRequests().length - before).toBe(1);
    expect(client.collector.ofGeneration(generationId).filter((f) => f.mt === 'typing_indicator')).toHaveLength(1);
    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    expect(body.items.filter((m) => m.role === 'bot')).toMatchObject([{ status: 'failed' }]);
    await client.close();
  });

  it('server errors are retried as new attempts that clients see, and the answer then completes', async () => {
    const failing = { type: 'http-error', status: 500, message: 'overloaded' } as const;
    // Each attempt asks for a translation (which falls back on failure) and then the answer.
    server.enqueue(
      failing,
      failing,
      failing,
      failing,
      { type: 'text', tokens: ['query'] },
      { type: 'text', tokens: ['Express ', 'costs 12 euros.'] },
    );
    const { client, chatId, generationId } = await start('How much is express shipping?');
    const done = await client.collector.waitForTerminal(generationId, 20_000);
    expect(done).toMatchObject({ status: 'complete', attempt: 3, text: 'Express costs 12 euros.' });
    expect(
      client.collector
        .ofGeneration(generationId)
        .filter((f) => f.mt === 'typing_indicator')
        .map((f) => f.attempt),
    ).toEqual([1, 2, 3]);
    expect(client.collector.textOf(generationId)).toBe(done.text);
    const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
    expect(body.items.filter((m) => m.role === 'bot')).toMatchObject([{ status: 'complete', text: done.text }]);
    await client.close();
  });
});

/** The first request to `path` after position `from`, once the server has it. */
async function waitForRequest(server: ScriptedOpenAiChatServer, from: number, path: string): Promise<{ index: number }> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const request = server.requests.slice(from).find((r) => r.path.endsWith(path));
    if (request) return request;
    if (Date.now() > deadline) throw new Error(`no ${path} request reached the scripted server`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
