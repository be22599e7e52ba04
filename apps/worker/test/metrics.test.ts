import { freePort, HttpClient, MetricsScrape, TestCluster, untilPasses, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKEN = 'metrics-test-token';

describe('Prometheus metrics on an API node and a worker', () => {
  let cluster: TestCluster;
  let apiMetrics: string;
  let workerMetrics: string;

  beforeAll(async () => {
    const workerPort = await freePort();
    cluster = await TestCluster.start({
      // 10 tokens per second: the second answer is still streaming when its stop arrives.
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: '20', SYNTHETIC_TOKENS_PER_SECOND: '10', METRICS_TOKEN: TOKEN },
      workerEnv: { WORKER_HTTP_PORT: String(workerPort) },
    });
    apiMetrics = `${cluster.api()}/metrics`;
    workerMetrics = `http://127.0.0.1:${workerPort}/metrics`;
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('count one complete and one stopped answer, connections, resumes, errors and jobs; METRICS_TOKEN guards them', async () => {
    const apiBefore = await MetricsScrape.fetch(apiMetrics, TOKEN);
    const workerBefore = await MetricsScrape.fetch(workerMetrics, TOKEN);
    for (const url of [apiMetrics, workerMetrics]) {
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    }
    for (const scrape of [apiBefore, workerBefore]) {
      for (const queue of ['generate', 'ingest'])
        for (const state of ['waiting', 'active', 'delayed', 'failed'])
          expect(scrape.has('ragstream_queue_jobs', { queue, state })).toBe(true);
      expect(scrape.has('nodejs_eventloop_lag_seconds')).toBe(true);
      expect(scrape.has('process_cpu_user_seconds_total')).toBe(true);
    }
    const api = (scrape: MetricsScrape, name: string, labels?: Record<string, string>): number =>
      scrape.value(name, labels) - apiBefore.value(name, labels);
    const worker = (scrape: MetricsScrape, name: string, labels?: Record<string, string>): number =>
      scrape.value(name, labels) - workerBefore.value(name, labels);
    const websocket = { transport: 'websocket' };

    const chatId = await new HttpClient(cluster.api()).createChat();
    const client = await WsChatClient.connect(cluster.api(), chatId);
    await untilPasses(async () =>
      expect(api(await MetricsScrape.fetch(apiMetrics, TOKEN), 'ragstream_connections_open', websocket)).toBe(1),
    );

    client.send({ mt: 'message_upload', message: 'first question', userId: 'u1' });
    const first = (await client.collector.waitForMt('message_upload_confirm')).generationId ?? '';
    expect((await client.collector.waitForTerminal(first)).status).toBe('complete');

    client.send({ mt: 'message_upload', message: 'second question', userId: 'u1' });
    const second = (await client.collector.waitForMt('message_upload_confirm', (f) => f.generationId !== first)).generationId ?? '';
    await client.collector.waitForMt('chat_message_bot_partial', (f) => f.generationId === second);
    client.send({ mt: 'stop' });
    expect((await client.collector.waitForTerminal(second)).status).toBe('stopped');

    client.send({ mt: 'no_such_frame' });
    const error = await client.collector.waitForMt('error');

    // A resume of the finished first answer replays all of its frames, and counts it no second time.
    const resumed = await WsChatClient.connect(cluster.api(), chatId, { generationId: first, lastSeq: 0 });
    await resumed.collector.waitForTerminal(first);
    await Promise.all([client.close(), resumed.close()]);

    const apiAfter = await untilPasses(async () => {
      const scrape = await MetricsScrape.fetch(apiMetrics, TOKEN);
      expect(api(scrape, 'ragstream_connections_open', websocket)).toBe(0);
      return scrape;
    });
    expect(api(apiAfter, 'ragstream_first_token_seconds_count')).toBe(2);
    expect(api(apiAfter, 'ragstream_answers_total', { status: 'complete' })).toBe(1);
    expect(api(apiAfter, 'ragstream_answers_total', { status: 'stopped' })).toBe(1);
    expect(api(apiAfter, 'ragstream_answers_total', { status: 'failed' })).toBe(0);
    expect(api(apiAfter, 'ragstream_stop_latency_seconds_count')).toBe(1);
    // Every live frame after the first of its generation, on the first connection only (the resume replayed).
    const liveGaps = [first, second].reduce((sum, g) => sum + client.collector.ofGeneration(g).length - 1, 0);
    expect(api(apiAfter, 'ragstream_frame_gap_seconds_count')).toBe(liveGaps);
    expect(api(apiAfter, 'ragstream_resumes_total', websocket)).toBe(1);
    expect(api(apiAfter, 'ragstream_frames_replayed_total', websocket)).toBe(resumed.collector.ofGeneration(first).length);
    expect(api(apiAfter, 'ragstream_error_frames_total', { code: error.code })).toBe(1);
    expect(api(apiAfter, 'ragstream_http_errors_total', { status: '401' })).toBe(2);

    const workerAfter = await untilPasses(async () => {
      const scrape = await MetricsScrape.fetch(workerMetrics, TOKEN);
      expect(worker(scrape, 'ragstream_generation_job_seconds_count')).toBe(2);
      return scrape;
    });
    expect(worker(workerAfter, 'ragstream_generation_job_seconds_count', { outcome: 'complete' })).toBe(1);
    expect(worker(workerAfter, 'ragstream_generation_job_seconds_count', { outcome: 'stopped' })).toBe(1);
    expect(worker(workerAfter, 'ragstream_generation_attempts_total')).toBe(2);
    expect(worker(workerAfter, 'ragstream_generation_retries_total')).toBe(0);
    expect(worker(workerAfter, 'ragstream_queue_wait_seconds_count')).toBe(2);
  });
});
