import { readFileSync, statSync } from 'node:fs';
import type { ChatMessage, Page } from '@ragstream/protocol';
import { OpenAIEmbedder } from '@ragstream/rag';
import { createKnowledgeStore } from '@ragstream/store';
import { freePort, HttpClient, MetricsScrape, TestCluster, untilPasses, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, onTestFinished } from 'vitest';
import { loadWorkerConfig } from '../src/config.ts';
import { createRetrievalComponents } from '../src/retrieval-components.ts';
import { createOrganisation, uploadAndWait } from './knowledge-helpers.ts';

/**
 * RagStream against real OpenAI-compatible model servers: llama.cpp (llama-cpp-python's
 * server) with Gemma 3 270M for chat and all-MiniLM-L6-v2 for embeddings, as started by
 * `npm run engines -- up` (which prints the variables these tests read). The models are
 * tiny, so the tests assert behaviour (streaming, grounding, cancellation, which calls go
 * to the model, semantic vectors), never wording.
 */
const env = process.env;
const chatReason =
  env.LLM_PROVIDER !== 'openai' || !env.OPENAI_BASE_URL
    ? 'LLM_PROVIDER=openai and OPENAI_BASE_URL are not set (start the model server with npm run engines -- up llama)'
    : !env.LLAMA_SERVER_LOG
      ? 'LLAMA_SERVER_LOG is not set (npm run engines -- up llama prints it)'
      : undefined;
const embeddingsReason =
  env.EMBEDDINGS_PROVIDER !== 'openai' || !env.EMBEDDINGS_BASE_URL
    ? 'EMBEDDINGS_PROVIDER=openai and EMBEDDINGS_BASE_URL are not set (start MiniLM with npm run engines -- up embeddings)'
    : undefined;
/** The variables `npm run engines` printed for `names`, passed on to the test's processes (which do not inherit them). */
function pick(names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.flatMap((name) => (env[name] ? [[name, env[name]]] : [])));
}
const CHAT_VARIABLES = ['LLM_PROVIDER', 'OPENAI_BASE_URL', 'OPENAI_API_KEY', 'LLM_MODEL'];
const EMBEDDING_VARIABLES = ['EMBEDDINGS_PROVIDER', 'EMBEDDINGS_BASE_URL', 'EMBEDDING_MODEL', 'VECTOR_DIMENSIONS', 'OPENAI_API_KEY'];
/** With `npm run test:engines` these are set too: the models then run with MongoDB and Milvus, all four engines at once. */
const STORE_VARIABLES = ['MONGODB_URL', 'MILVUS_ADDRESS'];
/** The model's vectors have their own dimensions, so their own collection (the offline embedder's is the default). */
const MODEL_COLLECTION = { MILVUS_COLLECTION: 'ragstream_chunks_minilm' };

/**
 * Why CI skips them: it does not start the model servers, since installing llama-cpp-python
 * compiles llama.cpp (12 to 34 minutes on a fresh 2-core machine), past CI's time budget.
 * `npm run test:engines` installs them once and runs these tests.
 */
const WHY_NOT_IN_CI =
  'CI does not start model servers (llama.cpp compiles for 12 to 34 minutes on a fresh machine); npm run test:engines runs these';
if (chatReason) console.warn(`engines-models.test.ts: chat model tests skipped: ${chatReason}. ${WHY_NOT_IN_CI}.`);
if (embeddingsReason) console.warn(`engines-models.test.ts: embedding model tests skipped: ${embeddingsReason}. ${WHY_NOT_IN_CI}.`);

/** Metrics and the model server's log are written just after the frames go out; the server is slow on a busy machine. */
const afterModel = <T>(check: () => T | Promise<T>): Promise<T> => untilPasses(check, 20_000);

const SHIPPING = {
  title: 'Shipping',
  content:
    'Express shipping costs 12 euros and arrives the next day. Standard shipping costs 4 euros and takes 3 to 5 days. ' +
    'Orders above 50 euros ship for free.',
};
const RETURNS = {
  title: 'Returns',
  content: 'Items can be returned within 30 days of delivery for a full refund. Refunds reach the original payment method within a week.',
};

const MODEL_TEST_MS = 600_000;

describe.skipIf(chatReason !== undefined)(
  `a real chat model at OPENAI_BASE_URL (${env.LLM_MODEL ?? 'LLM_MODEL unset'})`,
  { timeout: MODEL_TEST_MS },
  () => {
    const metricsToken = 'engines-models';
    const serverLog = env.LLAMA_SERVER_LOG ?? '';
    let cluster: TestCluster;
    let http: HttpClient;
    let organisationId: string;
    let workerMetrics: string;

    beforeAll(async () => {
      const workerPort = await freePort();
      cluster = await TestCluster.start({
        // The server runs one request at a time, a few tokens a second on a busy machine, and this
        // base model rarely stops by itself: a cap on answers, and time to wait behind another request.
        env: {
          ...pick([...CHAT_VARIABLES, ...STORE_VARIABLES]),
          LLM_MAX_RETRIES: '0',
          LLM_MAX_ANSWER_TOKENS: '128',
          LLM_TIMEOUT_MS: '240000',
          METRICS_TOKEN: metricsToken,
        },
        workerEnv: { WORKER_HTTP_PORT: String(workerPort) },
      });
      workerMetrics = `http://127.0.0.1:${workerPort}/metrics`;
      http = new HttpClient(cluster.api());
      organisationId = await createOrganisation(http, { name: 'Acme Store', tone: 'brief' });
      for (const document of [SHIPPING, RETURNS]) await uploadAndWait(http, organisationId, document);
    });
    afterEach((ctx) => {
      if (ctx.task.result?.state === 'fail') console.error(`${cluster?.logs()}\n----- model server log (tail) -----\n${tail(serverLog)}`);
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    async function ask(question: string, chatId?: string): Promise<{ client: WsChatClient; chatId: string; generationId: string }> {
      const id = chatId ?? (await http.post<{ id: string }>('/chat/', { userId: 'u1', organisationId })).body.id;
      const client = await WsChatClient.connect(cluster.api(), id);
      client.send({ mt: 'message_upload', message: question, userId: 'u1', selectedLanguage: 'en' });
      const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
      return { client, chatId: id, generationId };
    }

    async function storedBotMessages(chatId: string): Promise<ChatMessage[]> {
      const { body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages`);
      return body.items.filter((m) => m.role === 'bot');
    }

    async function modelRequests(): Promise<(operation: string, outcome: string) => number> {
      const scrape = await MetricsScrape.fetch(workerMetrics, metricsToken);
      return (operation, outcome) => scrape.value('ragstream_model_request_seconds_count', { operation, outcome });
    }

    it('streams an answer grounded in the document, in several deltas, with the model reporting its tokens', async () => {
      const tokensBefore = (await MetricsScrape.fetch(workerMetrics, metricsToken)).value('ragstream_model_tokens_total', {
        direction: 'out',
      });
      const { client, chatId, generationId } = await ask('How much does express shipping cost?');
      const done = await client.collector.waitForTerminal(generationId, MODEL_TEST_MS);
      expect(done).toMatchObject({ status: 'complete', grounded: true });
      expect(done.text.trim()).not.toBe('');
      const deltas = client.collector.ofGeneration(generationId).filter((f) => f.mt === 'chat_message_bot_partial');
      expect(deltas.length).toBeGreaterThan(1);
      expect(client.collector.textOf(generationId)).toBe(done.text);
      // The answer's sources are the passages its prompt was built from: the shipping document is cited.
      expect(done.sources.find((s) => s.cited)?.title).toBe('Shipping');
      expect((await storedBotMessages(chatId))[0]).toMatchObject({ status: 'complete', text: done.text });
      await afterModel(async () => {
        const scrape = await MetricsScrape.fetch(workerMetrics, metricsToken);
        expect(scrape.value('ragstream_model_tokens_total', { direction: 'out' })).toBeGreaterThan(tokensBefore);
      });
      await client.close();
    });

    it('stop mid-answer closes the model request (the server logs the disconnect); the stored text is the streamed text', async () => {
      const { client, chatId, generationId } = await ask(
        'Describe every shipping option in as much detail as you can, one long paragraph for each option.',
      );
      await client.collector.waitFor(() => client.collector.textOf(generationId).length > 0, MODEL_TEST_MS);
      const logOffset = statSync(serverLog).size;
      client.send({ mt: 'stop' });
      const done = await client.collector.waitForTerminal(generationId, 10_000);
      expect(done.status).toBe('stopped');
      const streamed = client.collector.textOf(generationId);
      expect(done.text).toBe(streamed);
      expect(streamed).not.toBe('');
      expect((await storedBotMessages(chatId))[0]).toMatchObject({ status: 'stopped', text: streamed });
      // llama-cpp-python's server notices the closed connection between two tokens and ends the generation.
      const disconnect = await afterModel(() => {
        const line = readFileSync(serverLog, 'utf8')
          .slice(logOffset)
          .match(/Disconnected from client.*/)?.[0];
        expect(line).toBeDefined();
        return line;
      });
      expect(disconnect).toMatch(/127\.0\.0\.1/);
      await afterModel(async () => expect((await modelRequests())('stream', 'aborted')).toBeGreaterThan(0));
      await client.close();
    });

    it('a follow-up is rewritten and the query translated by the model (two completions), then answered from the documents', async () => {
      const first = await ask('How much does express shipping cost?');
      await first.client.collector.waitForTerminal(first.generationId, MODEL_TEST_MS);
      await first.client.close();
      // The first question had no history: one completion (the translation), no rewrite.
      const before = await modelRequests();
      const { client, generationId } = await ask('And how long does it take?', first.chatId);
      const done = await client.collector.waitForTerminal(generationId, MODEL_TEST_MS);
      expect(done.status).toBe('complete');
      const after = await afterModel(async () => {
        const requests = await modelRequests();
        expect(requests('stream', 'ok') - before('stream', 'ok')).toBe(1);
        return requests;
      });
      expect(after('complete', 'ok') - before('complete', 'ok')).toBe(2);
      expect(after('complete', 'error') - before('complete', 'error')).toBe(0);
      await client.close();
    });
  },
);

describe.skipIf(embeddingsReason !== undefined)(
  `a real embedding model at EMBEDDINGS_BASE_URL (${env.EMBEDDING_MODEL ?? 'EMBEDDING_MODEL unset'})`,
  () => {
    let embedder: OpenAIEmbedder;
    let cluster: TestCluster;
    let http: HttpClient;

    beforeAll(async () => {
      // Made here, not while collecting: a skipped suite is collected too, without the variables.
      const config = loadWorkerConfig(env);
      embedder = new OpenAIEmbedder({
        apiKey: config.OPENAI_API_KEY,
        baseURL: config.EMBEDDINGS_BASE_URL,
        model: config.EMBEDDING_MODEL,
        dimensions: config.VECTOR_DIMENSIONS,
      });
      // The chat model is not needed here: the offline answerer keeps this about retrieval.
      cluster = await TestCluster.start({ env: { ...pick([...EMBEDDING_VARIABLES, ...STORE_VARIABLES]), ...MODEL_COLLECTION } });
      http = new HttpClient(cluster.api());
    });
    afterEach((ctx) => {
      if (ctx.task.result?.state === 'fail') console.error(cluster?.logs());
    });
    afterAll(async () => {
      await cluster?.stop();
    });

    it('are MiniLM sentence vectors: they reproduce the similarities sentence-transformers documents for all-MiniLM-L6-v2', async () => {
      const [weather, sunny, stadium] = await embedder.embed([
        'The weather is lovely today.',
        "It's so sunny outside!",
        'He drove to the stadium.',
      ]);
      if (!weather || !sunny || !stadium) throw new Error('three vectors expected');
      expect(weather).toHaveLength(384);
      // sentence-transformers' quickstart prints 0.6660, 0.1046 and 0.1411 for these pairs.
      expect(cosine(weather, sunny)).toBeCloseTo(0.666, 2);
      expect(cosine(weather, stadium)).toBeCloseTo(0.1046, 2);
      expect(cosine(sunny, stadium)).toBeCloseTo(0.1411, 2);
    });

    it('ingestion stores the model vectors and retrieval finds a paraphrase that shares no word with the document', async () => {
      const organisationId = await createOrganisation(http, { name: 'Acme Store' });
      const shipping = await uploadAndWait(http, organisationId, SHIPPING);
      const returns = await uploadAndWait(http, organisationId, RETURNS);
      expect([shipping.status, returns.status]).toEqual(['ready', 'ready']);
      // The worker's own retrieval components, reading what the worker process wrote.
      const config = loadWorkerConfig({ ...env, ...MODEL_COLLECTION, DATA_DIR: cluster.dataDir });
      const knowledge = createKnowledgeStore({ mongodbUrl: config.MONGODB_URL, dataDir: config.DATA_DIR });
      await knowledge.init();
      onTestFinished(() => knowledge.close());
      const { milvus, indexCache, retriever } = createRetrievalComponents(config, knowledge);
      const [stored] = await embedder.embed([`${SHIPPING.title}\n${SHIPPING.content}`]);
      if (!stored) throw new Error('one vector expected');
      const [nearest] = await (milvus ?? indexCache.vectors).search(organisationId, stored, 1);
      expect(nearest).toMatchObject({ documentId: shipping.id });
      expect(nearest?.score).toBeGreaterThan(0.8);

      const [paraphrase] = await retriever.retrieve(organisationId, 'What is the price of fast postage?', { topK: 1 });
      expect(paraphrase).toMatchObject({ documentId: shipping.id, vectorRank: 1 });
      expect(paraphrase?.keywordRank).toBeUndefined();
      const [money] = await retriever.retrieve(organisationId, 'Can I get my money back?', { topK: 1 });
      expect(money).toMatchObject({ documentId: returns.id, vectorRank: 1 });
    });
  },
);

function cosine(a: Float32Array, b: Float32Array): number {
  let dot = 0;
  for (let i = 0; i < a.length; i += 1) dot += (a[i] ?? 0) * (b[i] ?? 0);
  return dot;
}

function tail(path: string): string {
  try {
    return readFileSync(path, 'utf8').slice(-4000);
  } catch (err) {
    return `(cannot read ${path}: ${err instanceof Error ? err.message : String(err)})`;
  }
}
