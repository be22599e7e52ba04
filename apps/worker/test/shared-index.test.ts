import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { BotCompleteFrame, Source } from '@ragstream/protocol';
import { HttpClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createOrganisation, uploadAndWait } from './knowledge-helpers.ts';

const HANDBOOK = `# Night shifts

The harbour office opens at 22:00 for night shifts. Night staff collect their lantern keys from the duty desk.

# Overtime

Overtime after midnight is paid at one and a half times the hourly rate.`;

const FLEET = `# Vessels

The pilot boat Kestrel carries eight passengers. The tug Brindle tows ships of up to 40,000 tonnes.

# Fuel

Both vessels refuel at berth 7 on Mondays.`;

const NOTICE = `# Closure

The western pier is closed for repairs until the first of March. Ferries use the eastern pier meanwhile.`;

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name).slice(dir.length + 1));
}

/*
 * No local disk in the answer path: a worker that never ingested a document answers from it as
 * the worker that did, with the same passages. With MONGODB_URL the workers also get data
 * directories of their own; without it they share DATA_DIR, which holds the embedded store (and
 * is checked to hold nothing else).
 */
describe('search indexes are caches of the shared store', () => {
  let cluster: TestCluster;
  let http: HttpClient;
  let organisationId: string;
  const ownDirs: string[] = [];

  // Test processes do not inherit MONGODB_URL (managed-process.ts): with it set, this test opts in.
  const mongodbUrl = process.env.MONGODB_URL;
  const storeEnv: Record<string, string> = mongodbUrl ? { MONGODB_URL: mongodbUrl } : {};

  /** Env for a new worker: its roles and, with MongoDB, a data directory of its own. */
  function workerEnv(roles: string): Record<string, string> {
    if (!mongodbUrl) return { WORKER_ROLES: roles };
    const dir = mkdtempSync(join(tmpdir(), 'ragstream-worker-'));
    ownDirs.push(dir);
    return { WORKER_ROLES: roles, DATA_DIR: dir, ...storeEnv };
  }

  beforeAll(async () => {
    cluster = await TestCluster.start({ apis: 1, workers: 0, env: storeEnv });
    http = new HttpClient(cluster.api());
    organisationId = await createOrganisation(http, { name: 'Harbour Authority' });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
    for (const dir of ownDirs) rmSync(dir, { recursive: true, force: true });
  });

  async function ask(question: string): Promise<BotCompleteFrame> {
    const chatId = (await http.post<{ id: string }>('/chat/', { userId: 'u1', organisationId })).body.id;
    const client = await WsChatClient.connect(cluster.api(), chatId);
    try {
      client.send({ mt: 'message_upload', message: question, userId: 'u1' });
      const generationId = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
      return await client.collector.waitForTerminal(generationId);
    } finally {
      await client.close();
    }
  }

  const passages = (done: BotCompleteFrame): Source[] => done.sources;
  const QUESTIONS = ['When does the harbour office open for night shifts?', 'How many passengers does the Kestrel carry?'];

  it('gives the same top passages from a worker that ingested the documents and from one that did not', async () => {
    const ingester = await cluster.addWorker(workerEnv('answer,ingest'));
    await uploadAndWait(http, organisationId, { title: 'Staff handbook', format: 'markdown', content: HANDBOOK });
    // Its cache is built now, then takes the second document incrementally.
    expect((await ask(QUESTIONS[0] ?? '')).text).toContain('22:00');
    await uploadAndWait(http, organisationId, { title: 'Fleet', format: 'markdown', content: FLEET });
    const fromIngester = [];
    for (const question of QUESTIONS) fromIngester.push(await ask(question));
    expect(fromIngester[1]?.text).toContain('eight passengers');
    await ingester.stop();

    // A fresh process that has ingested nothing, and the only one taking answers now.
    const answerer = await cluster.addWorker(workerEnv('answer'));
    for (const [i, question] of QUESTIONS.entries()) {
      const done = await ask(question);
      expect(done.status).toBe('complete');
      expect(passages(done)).toStrictEqual(passages(fromIngester[i] as BotCompleteFrame));
      expect(done.text).toBe(fromIngester[i]?.text);
    }
    expect(answerer.logs).toContain('"roles":["answer"]');
    // Two worker starts, two ingestions and five answers: room for a loaded machine.
  }, 180_000);

  it('finds a document right after another worker ingested it', async () => {
    await cluster.addWorker(workerEnv('ingest'));
    const notice = await uploadAndWait(http, organisationId, { title: 'Notice', format: 'markdown', content: NOTICE });
    expect(notice.status).toBe('ready');
    const done = await ask('Which pier is closed for repairs?');
    expect(done.text).toContain('western pier');
    expect(done.sources[0]).toMatchObject({ documentId: notice.id, cited: true });
  });

  it('keeps no index files: the data directories hold the embedded store only', () => {
    for (const dir of [cluster.dataDir, ...ownDirs]) {
      for (const file of filesUnder(dir)) expect(file).toMatch(/^ragstream\.sqlite(-wal|-shm)?$/);
    }
  });
});
