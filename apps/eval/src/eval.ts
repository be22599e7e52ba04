import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { ChatMessage, Page } from '@ragstream/protocol';
import { ENGINE_VARIABLES, HttpClient, LOAD_GENERATOR_LIMITS, TestCluster, WsChatClient } from '@ragstream/testing';
import type { QuestionResult } from './metrics.ts';
import { percentile, score } from './metrics.ts';
import type { Paragraph, Question } from './squad.ts';
import { readSquad } from './squad.ts';

const USAGE = `Usage: npm run eval -- --documents FILE --questions FILE [--embedders LIST] [--json OUT] [--workers N] [--concurrency N] [--limit N]

Ingests every paragraph of the documents file (SQuAD JSON) as a document of a fresh
organisation through the real ingestion path, asks every question of the questions file
through the real pipeline (selectedLanguage unset) and scores the stored answers. Offline models
unless the environment sets others (EMBEDDINGS_PROVIDER, LLM_PROVIDER, ...; npm run engines prints them).
Uses Redis at REDIS_URL and starts its own API node and workers for each embedder.

  --embedders LIST   comma-separated, run in turn and compared in one table: "env" (the embedder
                     the environment sets; the default) and "offline" (the offline lexical one,
                     whatever the environment sets). E.g. offline,env with EMBEDDINGS_PROVIDER=openai.`;

interface DocumentView {
  id: string;
  status: string;
  error?: string;
}

/** The variables that choose the embedder; "offline" runs without them. */
const EMBEDDER_VARIABLES = ['EMBEDDINGS_PROVIDER', 'EMBEDDINGS_BASE_URL', 'EMBEDDING_MODEL', 'VECTOR_DIMENSIONS'];
const EMBEDDER_CHOICES = ['env', 'offline'] as const;
type EmbedderChoice = (typeof EMBEDDER_CHOICES)[number];

interface Run {
  embedder: string;
  results: QuestionResult[];
  ingestMs: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      documents: { type: 'string' },
      questions: { type: 'string' },
      embedders: { type: 'string', default: 'env' },
      json: { type: 'string' },
      workers: { type: 'string', default: '2' },
      concurrency: { type: 'string', default: '8' },
      limit: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help || !values.documents || !values.questions) {
    console.log(USAGE);
    process.exit(values.help ? 0 : 2);
  }
  const choices = parseEmbedders(values.embedders);
  const documents = readSquad(values.documents);
  const questions = readSquad(values.questions).questions.slice(0, values.limit ? Number(values.limit) : undefined);
  const goldByQuestion = new Map<string, number>();
  for (const paragraph of documents.paragraphs) for (const id of paragraph.questionIds) goldByQuestion.set(id, paragraph.index);

  const runs: Run[] = [];
  for (const choice of choices) {
    const engines = enginesFor(choice);
    const embedder = embedderLabel(engines);
    log(`embedder ${embedder}: starting an API node and ${values.workers} workers...`);
    const started = performance.now();
    const cluster = await TestCluster.start({
      apis: 1,
      workers: Number(values.workers),
      // The providers and stores set in this environment (e.g. by npm run engines -- up), which
      // test processes do not inherit by default.
      // One user asks hundreds of questions at once: the per-user limits would refuse most of them.
      env: { ...LOAD_GENERATOR_LIMITS, ...engines, ABANDON_AFTER_SECONDS: '3600' },
    });
    const stopCluster = (): void => void cluster.stop().finally(() => process.exit(130));
    process.once('SIGINT', stopCluster);
    try {
      const http = new HttpClient(cluster.api());
      const organisationId = await createOrganisation(http);
      log(`ingesting ${documents.paragraphs.length} paragraphs into organisation ${organisationId}...`);
      const paragraphByDocument = await ingest(http, organisationId, documents.paragraphs, Number(values.concurrency));
      const ingestMs = performance.now() - started;
      log(`asking ${questions.length} questions...`);
      const results = await mapConcurrent(questions, Number(values.concurrency), (question) =>
        ask(cluster, http, organisationId, question, goldByQuestion.get(question.id), paragraphByDocument),
      );
      runs.push({ embedder, results, ingestMs });
    } finally {
      process.off('SIGINT', stopCluster);
      await cluster.stop();
    }
  }
  report(runs, values.json);
}

function parseEmbedders(list: string): EmbedderChoice[] {
  const choices = list.split(',').map((item) => item.trim());
  const unknown = choices.filter((choice) => !(EMBEDDER_CHOICES as readonly string[]).includes(choice));
  if (unknown.length > 0 || choices.length === 0 || new Set(choices).size !== choices.length) {
    usageError(`--embedders: a comma-separated list of ${EMBEDDER_CHOICES.join(' and ')}, each once (got ${JSON.stringify(list)})`);
  }
  if (choices.includes('env') && choices.includes('offline') && process.env['EMBEDDINGS_PROVIDER'] !== 'openai') {
    usageError("--embedders offline,env compares the offline embedder with the environment's, but EMBEDDINGS_PROVIDER is not openai");
  }
  return choices as EmbedderChoice[];
}

/** The engine variables of this environment, without the embedder's for "offline"; each embedder in its own Milvus collection. */
function enginesFor(choice: EmbedderChoice): Record<string, string> {
  const engines = configuredEngines();
  if (choice === 'offline') for (const name of EMBEDDER_VARIABLES) delete engines[name];
  // A collection's dimensions are fixed when it is made: one per embedder and size.
  if (engines['MILVUS_ADDRESS'] && !engines['MILVUS_COLLECTION']) {
    const model = engines['EMBEDDINGS_PROVIDER'] === 'openai' ? (engines['EMBEDDING_MODEL'] ?? 'model') : 'offline';
    engines['MILVUS_COLLECTION'] = `ragstream_eval_${model.replace(/[^A-Za-z0-9]+/g, '_')}_${engines['VECTOR_DIMENSIONS'] ?? 'default'}`;
  }
  return engines;
}

function embedderLabel(engines: Record<string, string>): string {
  return engines['EMBEDDINGS_PROVIDER'] === 'openai' ? (engines['EMBEDDING_MODEL'] ?? 'openai') : 'offline';
}

function usageError(message: string): never {
  console.error(`${message}\n\n${USAGE}`);
  process.exit(2);
}

function configuredEngines(): Record<string, string> {
  return Object.fromEntries(ENGINE_VARIABLES.flatMap((name) => (process.env[name] ? [[name, process.env[name]]] : [])));
}

async function createOrganisation(http: HttpClient): Promise<string> {
  const { status, body } = await http.post<{ id: string }>('/organisations', { name: `eval ${new Date().toISOString()}` });
  if (status !== 201) throw new Error(`create organisation: ${status} ${JSON.stringify(body)}`);
  return body.id;
}

/** Uploads each paragraph as a document and waits until every one is ready. */
async function ingest(
  http: HttpClient,
  organisationId: string,
  paragraphs: Paragraph[],
  concurrency: number,
): Promise<Map<string, number>> {
  const byDocument = new Map<string, number>();
  await mapConcurrent(paragraphs, concurrency, async (paragraph) => {
    const { status, body } = await http.post<DocumentView>(`/organisations/${organisationId}/documents`, {
      title: paragraph.title,
      format: 'text',
      content: paragraph.text,
    });
    if (status !== 202) throw new Error(`upload paragraph ${paragraph.index}: ${status} ${JSON.stringify(body)}`);
    byDocument.set(body.id, paragraph.index);
  });
  for (;;) {
    const docs = await listDocuments(http, organisationId);
    const failed = docs.filter((d) => d.status === 'failed');
    if (failed.length > 0) throw new Error(`ingestion failed: ${JSON.stringify(failed.slice(0, 3))}`);
    if (docs.length === paragraphs.length && docs.every((d) => d.status === 'ready')) return byDocument;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function listDocuments(http: HttpClient, organisationId: string): Promise<DocumentView[]> {
  const all: DocumentView[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const { body }: { body: Page<DocumentView> } = await http.get<Page<DocumentView>>(
      `/organisations/${organisationId}/documents?limit=200${query}`,
    );
    all.push(...body.items);
    cursor = body.nextCursor;
  } while (cursor !== null);
  return all;
}

/** One question in a chat of its own, so that no history turns it into a follow-up. */
async function ask(
  cluster: TestCluster,
  http: HttpClient,
  organisationId: string,
  question: Question,
  gold: number | undefined,
  paragraphByDocument: Map<string, number>,
): Promise<QuestionResult> {
  const { body: chat } = await http.post<{ id: string }>('/chat/', { userId: 'eval', organisationId });
  const client = await WsChatClient.connect(cluster.api(), chat.id);
  const sentAt = performance.now();
  client.send({ mt: 'message_upload', message: question.text, userId: 'eval', clientMessageId: question.id });
  const confirm = await client.collector.waitForMt('message_upload_confirm');
  await client.collector.waitForTerminal(confirm.generationId ?? '', 120_000);
  await client.close();
  const { body } = await http.get<Page<ChatMessage>>(`/chat/${chat.id}/messages`);
  const answer = body.items.find((m) => m.role === 'bot');
  const retrieved: number[] = [];
  for (const source of answer?.sources ?? []) {
    const index = paragraphByDocument.get(source.documentId);
    if (index !== undefined && !retrieved.includes(index)) retrieved.push(index);
  }
  const arrivals = new Map<string, number>();
  client.collector.frames.forEach((frame, i) => {
    const key = frame.mt === 'chat_message_bot_status' ? `stage:${frame.stage}` : frame.mt;
    if (!arrivals.has(key)) arrivals.set(key, client.collector.receivedAt[i] ?? Number.NaN);
  });
  const at = (key: string): number | undefined => arrivals.get(key);
  const stageMs: Record<string, number> = {};
  const span = (name: string, from: number | undefined, to: number | undefined): void => {
    if (from !== undefined && to !== undefined) stageMs[name] = to - from;
  };
  span('queue', sentAt, at('typing_indicator'));
  span('language', at('stage:language'), at('stage:searching'));
  span('retrieval', at('stage:searching'), at('stage:generating'));
  span('generation', at('stage:generating'), at('chat_message_bot_complete'));
  span('total', sentAt, at('chat_message_bot_complete'));
  return { id: question.id, retrieved, answer: answer?.text ?? '', gold, answers: question.answers, stageMs };
}

const STAGES = ['queue', 'language', 'retrieval', 'generation', 'total'];

function report(runs: Run[], jsonPath: string | undefined): void {
  const summaries = runs.map((run) => {
    const scores = score(run.results);
    const stages = STAGES.map((stage) => {
      const values = run.results.flatMap((r) => (r.stageMs[stage] === undefined ? [] : [r.stageMs[stage]]));
      return { stage, p50: round(percentile(values, 50)), p95: round(percentile(values, 95)) };
    });
    return { run, scores, stages };
  });
  for (const { run, scores, stages } of summaries) {
    console.log(`embedder ${run.embedder}`);
    console.log(
      `questions ${scores.questions}  hit@1 ${scores.hit_at_1}  hit@5 ${scores.hit_at_5}  MRR@10 ${scores.mrr_at_10}  answer recall ${scores.answer_recall}`,
    );
    console.log(`ingestion (start to all ready) ${round(run.ingestMs)} ms`);
    console.log('stage        p50 ms   p95 ms');
    for (const { stage, p50, p95 } of stages) console.log(`${stage.padEnd(12)} ${String(p50).padStart(7)}  ${String(p95).padStart(7)}`);
  }
  if (summaries.length > 1) {
    const width = Math.max(8, ...runs.map((run) => run.embedder.length));
    console.log(`\n${'embedder'.padEnd(width)}   hit@1   hit@5  MRR@10  answer recall  retrieval p50 ms`);
    for (const { run, scores, stages } of summaries) {
      const retrieval = stages.find((stage) => stage.stage === 'retrieval')?.p50 ?? Number.NaN;
      const cells = [scores.hit_at_1, scores.hit_at_5, scores.mrr_at_10].map((value) => String(value).padStart(7));
      console.log(
        `${run.embedder.padEnd(width)} ${cells.join(' ')}  ${String(scores.answer_recall).padStart(13)}  ${String(retrieval).padStart(16)}`,
      );
    }
  }
  if (jsonPath) {
    const views = summaries.map(({ run, scores, stages }) => ({
      embedder: run.embedder,
      ...scores,
      stage_ms: Object.fromEntries(stages.map(({ stage, p50, p95 }) => [stage, { p50, p95 }])),
      results: run.results.map(({ id, retrieved, answer }) => ({ id, retrieved, answer })),
    }));
    // One embedder: the report as before; several: one per embedder, in the order run.
    writeFileSync(jsonPath, `${JSON.stringify(views.length === 1 ? views[0] : { runs: views }, null, 2)}\n`);
    console.log(`wrote ${jsonPath}`);
  }
}

async function mapConcurrent<T, R>(items: T[], concurrency: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.max(1, concurrency) }, async () => {
      for (let i = next++; i < items.length; i = next++) results[i] = await fn(items[i] as T);
    }),
  );
  return results;
}

function round(value: number): number {
  return Number(value.toFixed(1));
}

function log(message: string): void {
  process.stderr.write(`eval: ${message}\n`);
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
