import type { ManagedProcess } from '@ragstream/testing';
import { HttpClient, TestCluster, WsChatClient } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/** The JSON log lines of a process that contain `needle`; each must parse. */
function linesWith(process: ManagedProcess, needle: string): Record<string, unknown>[] {
  return process.logs
    .split('\n')
    .filter((line) => line.includes(needle))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('one traceId follows a user message through the API node and the worker', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: { LOG_LEVEL: 'debug', LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: '20', SYNTHETIC_TOKENS_PER_SECOND: '0' },
    });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('logs the journey, with its ids on every line, and never the message text', async () => {
    const [api, worker] = [cluster.apis[0], cluster.workers[0]];
    if (!api || !worker) throw new Error('the cluster has no API node or worker');
    const chatId = await new HttpClient(cluster.api()).createChat();
    const client = await WsChatClient.connect(cluster.api(), chatId);
    const secretWords = 'my private question about quokkas';
    client.send({ mt: 'message_upload', message: secretWords, userId: '123', timezone: 'UTC' });
    const confirm = await client.collector.waitForMt('message_upload_confirm');
    const generationId = confirm.generationId ?? '';
    const done = await client.collector.waitForTerminal(generationId);
    expect(done.status).toBe('complete');
    await client.close();

    const received = linesWith(api, 'user message received').find((line) => line.chatId === chatId);
    const traceId = received?.traceId;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    const trace = String(traceId);

    const expected = { chatId, traceId: trace, generationId, messageId: confirm.messageId };
    // The worker stores the answer before clients hear of it, but its lines reach us through a pipe.
    await expect
      .poll(() => linesWith(worker, trace).map((line) => line.msg), { timeout: 10_000 })
      .toEqual(expect.arrayContaining(['generation job started', 'attempt started', 'generation finished', 'bot message stored']));

    const apiLines = linesWith(api, trace);
    expect(apiLines.map((line) => line.msg)).toEqual([
      'user message received',
      'user message stored',
      'answer admitted',
      'answer dispatched',
    ]);
    for (const line of apiLines.slice(1)) {
      expect(line).toMatchObject({
        ...expected,
        transport: 'websocket',
        nodeId: expect.any(String),
        service: expect.stringMatching(/^api:/),
      });
    }
    expect(apiLines[0]).toMatchObject({ chatId, traceId: trace, transport: 'websocket' });

    const workerLines = linesWith(worker, trace);
    for (const line of workerLines) expect(line).toMatchObject({ ...expected, jobId: generationId, service: 'worker' });
    const byMsg = new Map(workerLines.map((line) => [line.msg, line]));
    expect(byMsg.get('generation job started')).toMatchObject({ bullAttempt: 1 });
    expect(byMsg.get('attempt started')).toMatchObject({ attempt: 1 });
    expect(byMsg.get('generation finished')).toMatchObject({ attempt: 1, status: 'complete', botMessageId: done.messageId });
    expect(byMsg.get('bot message stored')).toMatchObject({ attempt: 1, status: 'complete', botMessageId: done.messageId });

    expect(api.logs).not.toContain(secretWords);
    expect(worker.logs).not.toContain(secretWords);
  });

  it('follows an upload by the X-Request-Id it came with, to the document ingested on the worker', async () => {
    const [api, worker] = [cluster.apis[0], cluster.workers[0]];
    if (!api || !worker) throw new Error('the cluster has no API node or worker');
    const traceId = `upload-${Date.now()}`;
    const response = await fetch(`${cluster.api()}/organisations/000000000000000000000001/documents`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': traceId },
      body: JSON.stringify({ title: 'Policy', format: 'text', content: 'Refunds take five days.' }),
    });
    expect(response.status).toBe(202);
    expect(response.headers.get('x-request-id')).toBe(traceId);
    const { id: documentId } = (await response.json()) as { id: string };

    await expect
      .poll(() => linesWith(worker, traceId).map((line) => line.msg), { timeout: 20_000 })
      .toEqual(['ingestion job started', 'document ingested']);
    for (const line of linesWith(worker, traceId)) expect(line).toMatchObject({ documentId, revision: 1, traceId });
    expect(linesWith(api, traceId)).toEqual([expect.objectContaining({ msg: 'document queued for ingestion', documentId, traceId })]);
  });
});
