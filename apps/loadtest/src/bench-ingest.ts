// npm run bench:ingest [-- --documents 200 --sections 6 --json file]
//
// Ingestion beside answers. Runs twice, each on a fresh cluster (one API node, the offline
// pipeline): once with one worker that both answers and ingests (WORKER_ROLES=answer,ingest, the
// default), once with an answer-only worker beside an ingest-only one. In each, `--documents`
// Markdown documents are uploaded at once while questions are asked one after another, and the
// answering worker's event-loop delay over the ingestion is read from its /metrics (prom-client's
// monitorEventLoopDelay histogram, reset at every scrape). A third run asks questions for
// `--baseline-seconds` with no ingestion at all: the delay the machine itself causes (CPU
// starvation on a shared host shows up as event-loop delay). Prints the runs side by side.
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { BotCompleteFrame } from '@ragstream/protocol';
import type { ManagedProcess } from '@ragstream/testing';
import {
  freePort,
  HttpClient,
  LOAD_GENERATOR_LIMITS,
  MetricsScrape,
  seededRandom,
  TestCluster,
  textTable,
  WsChatClient,
} from '@ragstream/testing';

interface RunResult {
  name: string;
  documents: number;
  chunks: number;
  seconds: number;
  /** When half the documents were ready, from the first upload. */
  halfSeconds: number;
  answers: number;
  answerP50Ms: number;
  answerP99Ms: number;
  loopDelayP99Ms: number;
  loopDelayMaxMs: number;
}

const WORDS = (
  'harbour ledger cargo vessel lantern keeper policy refund customer invoice shipping delay warranty return parcel ' +
  'courier address payment account pilot tug berth fuel tide crane manifest customs inspection permit schedule'
).split(' ');

function document(i: number, sections: number): string {
  const random = seededRandom(i + 1);
  const word = () => WORDS[Math.floor(random() * WORDS.length)] ?? 'harbour';
  return Array.from({ length: sections }, (_, s) => {
    const sentences = Array.from({ length: 12 }, () => `The ${word()} ${word()} of unit${i}x${s} follows the ${word()} ${word()} rules.`);
    return `# Section ${s} of record ${i}\n\n${sentences.join(' ')}`;
  }).join('\n\n');
}

function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

async function ask(baseUrl: string, http: HttpClient, organisationId: string, question: string): Promise<BotCompleteFrame> {
  const chatId = (await http.post<{ id: string }>('/chat/', { userId: 'bench', organisationId })).body.id;
  const client = await WsChatClient.connect(baseUrl, chatId);
  try {
    client.send({ mt: 'message_upload', message: question, userId: 'bench' });
    const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    return await client.collector.waitForTerminal(generationId, 120_000);
  } finally {
    await client.close();
  }
}

async function run(name: string, roles: readonly string[], documents: number, sections: number, baselineMs: number): Promise<RunResult> {
  const cluster = await TestCluster.start({ apis: 1, workers: 0, env: { ...LOAD_GENERATOR_LIMITS } });
  try {
    const port = await freePort();
    let answering: ManagedProcess | undefined;
    for (const [i, role] of roles.entries()) {
      const worker = await cluster.addWorker({ WORKER_ROLES: role, ...(i === 0 ? { WORKER_HTTP_PORT: String(port) } : {}) });
      if (i === 0) answering = worker;
    }
    if (!answering) throw new Error('no answering worker');
    const metricsUrl = `http://127.0.0.1:${port}/metrics`;
    const http = new HttpClient(cluster.api());
    const { body: organisation } = await http.post<{ id: string }>('/organisations', { name: `bench ${name}` });
    const organisationId = organisation.id;
    // Warm up the answer path (and its index cache) before the window opens.
    await ask(cluster.api(), http, organisationId, 'What are the harbour rules?');

    await MetricsScrape.fetch(metricsUrl); // resets the event-loop delay histogram
    const startedAt = performance.now();
    const uploads = Array.from({ length: documents }, async (_, i) => {
      const response = await http.request('POST', `/organisations/${organisationId}/documents`, {
        title: `Record ${i}`,
        format: 'markdown',
        content: document(i, sections),
      });
      if (response.status !== 202) throw new Error(`upload ${i}: ${response.status} ${JSON.stringify(response.body)}`);
    });
    await Promise.all(uploads);

    let ingesting = true;
    const latencies: number[] = [];
    const asking = (async () => {
      for (let i = 0; ingesting; i += 1) {
        const askedAt = performance.now();
        await ask(cluster.api(), http, organisationId, `Which rules does unit${i % documents}x1 follow?`);
        latencies.push(performance.now() - askedAt);
      }
    })();

    let chunks = 0;
    let halfSeconds = Number.NaN;
    if (documents === 0) await new Promise((resolve) => setTimeout(resolve, baselineMs));
    while (documents > 0) {
      const { body } = await http.get<{ items: { status: string; chunkCount: number }[] }>(
        `/organisations/${organisationId}/documents?limit=200`,
      );
      const done = body.items.filter((item) => item.status === 'ready' || item.status === 'failed');
      if (Number.isNaN(halfSeconds) && done.length >= documents / 2) halfSeconds = (performance.now() - startedAt) / 1000;
      if (done.length >= documents && body.items.length >= documents) {
        if (done.some((item) => item.status === 'failed')) throw new Error('a document failed to ingest');
        chunks = body.items.reduce((sum, item) => sum + item.chunkCount, 0);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    const seconds = (performance.now() - startedAt) / 1000;
    const scrape = await MetricsScrape.fetch(metricsUrl);
    ingesting = false;
    await asking;
    const sorted = [...latencies].sort((a, b) => a - b);
    return {
      name,
      documents,
      chunks,
      seconds,
      halfSeconds,
      answers: latencies.length,
      answerP50Ms: percentile(sorted, 50),
      answerP99Ms: percentile(sorted, 99),
      loopDelayP99Ms: scrape.value('nodejs_eventloop_lag_p99_seconds') * 1000,
      loopDelayMaxMs: scrape.value('nodejs_eventloop_lag_max_seconds') * 1000,
    };
  } catch (err) {
    process.stderr.write(`${cluster.logs()}\n`);
    throw err;
  } finally {
    await cluster.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      documents: { type: 'string', default: '200' },
      sections: { type: 'string', default: '6' },
      'baseline-seconds': { type: 'string', default: '20' },
      json: { type: 'string' },
    },
  });
  const documents = Number(values.documents);
  const sections = Number(values.sections);
  if (!Number.isInteger(documents) || documents < 1 || documents > 200) throw new Error('--documents must be 1..200');
  const baselineMs = Number(values['baseline-seconds']) * 1000;
  const results: RunResult[] = [];
  for (const [name, roles, count] of [
    ['same worker', ['answer,ingest'], documents],
    ['separate ingest worker', ['answer', 'ingest'], documents],
    ['no ingestion (baseline)', ['answer'], 0],
  ] as const) {
    process.stderr.write(`bench:ingest: ${name}: ${count} documents\n`);
    results.push(await run(name, roles, count, sections, baselineMs));
  }
  const fixed = (value: number, digits = 1) => value.toFixed(digits);
  const rows = [
    ['', ...results.map((result) => result.name)],
    ['documents / chunks', ...results.map((result) => `${result.documents} / ${result.chunks}`)],
    ['seconds', ...results.map((result) => fixed(result.seconds))],
    ['ingest documents/s', ...results.map((result) => (result.documents === 0 ? '' : fixed(result.documents / result.seconds)))],
    ['ingest chunks/s', ...results.map((result) => (result.documents === 0 ? '' : fixed(result.chunks / result.seconds)))],
    [
      'documents/s, first half / second half',
      ...results.map((result) => {
        if (result.documents === 0) return '';
        const half = result.documents / 2;
        return `${fixed(half / result.halfSeconds)} / ${fixed(half / (result.seconds - result.halfSeconds))}`;
      }),
    ],
    ['answers in the window', ...results.map((result) => String(result.answers))],
    ['answer latency p50 / p99 ms', ...results.map((result) => `${fixed(result.answerP50Ms, 0)} / ${fixed(result.answerP99Ms, 0)}`)],
    ['answering worker event-loop delay p99 ms', ...results.map((result) => fixed(result.loopDelayP99Ms))],
    ['answering worker event-loop delay max ms', ...results.map((result) => fixed(result.loopDelayMaxMs))],
  ];
  process.stdout.write(`${textTable(rows)}\n`);
  if (values.json) {
    writeFileSync(values.json, JSON.stringify(results, null, 2));
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`bench:ingest: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
