import type { HttpResult } from '@ragstream/testing';
import { HttpClient, ManagedProcess, TestCluster } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { expectError, generationJobs } from './helpers.ts';

const ADMIN_TOKEN = 'test-admin-token-0123456789abcdef';
const QUEUES = '/admin/queues/api/queues';

interface BoardQueue {
  name: string;
  readOnlyMode: boolean;
}
interface BoardJob {
  id: string;
  name: string;
  data: Record<string, unknown>;
}

/** The admin routes with raw headers: bearer tokens, cookies and form bodies are the point here. */
async function call(baseUrl: string, path: string, init: RequestInit = {}): Promise<HttpResult & { headers: Headers }> {
  const response = await fetch(`${baseUrl}${path}`, { redirect: 'manual', ...init });
  const text = await response.text();
  const json = (response.headers.get('content-type') ?? '').includes('json');
  return { status: response.status, body: json ? JSON.parse(text) : text, headers: response.headers };
}

const bearer = (token: string): RequestInit => ({ headers: { authorization: `Bearer ${token}` } });

function login(baseUrl: string, token: string): Promise<HttpResult & { headers: Headers }> {
  return call(baseUrl, '/admin/login', {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ token }).toString(),
  });
}

describe('Bull Board at /admin/queues behind ADMIN_TOKEN (API nodes, no worker: jobs stay waiting)', () => {
  let cluster: TestCluster;
  let closed: TestCluster;
  let api: string;

  beforeAll(async () => {
    [cluster, closed] = await Promise.all([
      TestCluster.start({ workers: 0, env: { ADMIN_TOKEN, LLM_PROVIDER: 'synthetic' } }),
      TestCluster.start({ workers: 0, env: { LLM_PROVIDER: 'synthetic' } }),
    ]);
    api = cluster.api(0);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs(), closed.logs());
  });
  afterAll(async () => {
    await Promise.all([cluster?.stop(), closed?.stop()]);
  });

  it('answers 401 without credentials: JSON for API requests, the login form (still 401) for a browser', async () => {
    for (const path of [QUEUES, '/admin/queues', '/admin/queues/queue/generate', `${QUEUES}/generate/some-job`]) {
      const result = await call(api, path);
      expectError(result, 401, 'unauthorized');
      expect(result.headers.get('www-authenticate')).toMatch(/^Bearer/);
    }
    expectError(await call(api, `${QUEUES}/pause`, { method: 'PUT' }), 401, 'unauthorized');
    const page = await call(api, '/admin/queues', { headers: { accept: 'text/html' } });
    expect(page.status).toBe(401);
    expect(page.body).toContain('<form method="post" action="/admin/login">');
  });

  it('answers 401 to a wrong token, a malformed header and a cookie that is not a session', async () => {
    for (const authorization of [
      `Bearer ${ADMIN_TOKEN}x`,
      `Bearer ${ADMIN_TOKEN.slice(0, -1)}`,
      'Bearer ',
      `Basic ${Buffer.from(`admin:${ADMIN_TOKEN}`).toString('base64')}`,
      ADMIN_TOKEN,
    ]) {
      expectError(await call(api, QUEUES, { headers: { authorization } }), 401, 'unauthorized');
    }
    const farFuture = Math.floor(Date.now() / 1000) + 3600;
    for (const cookie of [`ragstream_admin=${ADMIN_TOKEN}`, `ragstream_admin=${farFuture}.forged`, 'ragstream_admin=']) {
      expectError(await call(api, QUEUES, { headers: { cookie } }), 401, 'unauthorized');
    }
  });

  it('answers 401 on a node without ADMIN_TOKEN, whatever the credentials', async () => {
    const other = closed.api(0);
    expectError(await call(other, QUEUES), 401, 'unauthorized');
    expectError(await call(other, QUEUES, bearer(ADMIN_TOKEN)), 401, 'unauthorized');
    expect((await login(other, ADMIN_TOKEN)).status).toBe(401);
    expect(closed.logs()).toMatch(/ADMIN_TOKEN is not set/);
  });

  it('lists the generation and ingestion queues (read-only) to the bearer token', async () => {
    const result = await call(api, QUEUES, bearer(ADMIN_TOKEN));
    expect(result.status).toBe(200);
    const queues = (result.body as { queues: BoardQueue[] }).queues;
    expect(queues.map((q) => [q.name, q.readOnlyMode]).sort()).toEqual([
      ['generate', true],
      ['ingest', true],
    ]);
  });

  it('shows a waiting generation by chat, generation, attempt and organisation with a 120-character preview; the job is unchanged', async () => {
    const http = new HttpClient(api);
    const chatId = await http.createChat('u-admin');
    const text = `${'Where is my parcel? '.repeat(10)}😀 and the rest of a long question`;
    const sent = await http.post<{ generationId: string }>(`/chat/${chatId}/messages`, { text, userId: 'u-admin', generate: true });
    expect(sent.status).toBe(201);
    const { generationId } = sent.body;

    const detail = await call(api, `${QUEUES}/generate/${generationId}`, bearer(ADMIN_TOKEN));
    expect(detail.status).toBe(200);
    const { job, status } = detail.body as { job: BoardJob; status: string };
    expect(status).toBe('waiting');
    expect(job.id).toBe(generationId);
    expect(job.name).toBe(`generate-answer chat ${chatId} attempt 0`);
    const preview = `${'Where is my parcel? '.repeat(6)}…`;
    expect(job.data).toMatchObject({ chatId, generationId, userId: 'u-admin', messagePreview: preview });
    expect(typeof job.data.organisationId).toBe('string');
    expect(job.data).not.toHaveProperty('text');
    expect(JSON.stringify(job.data)).not.toContain('the rest of a long question');

    const listed = await call(api, `${QUEUES}?activeQueue=generate&status=waiting`, bearer(ADMIN_TOKEN));
    const generate = (listed.body as { queues: (BoardQueue & { jobs: BoardJob[] })[] }).queues.find((q) => q.name === 'generate');
    expect(generate?.jobs.find((j) => j.id === generationId)?.data.messagePreview).toBe(preview);

    // The formatters change what the board shows, not what BullMQ stores.
    expect((await generationJobs(cluster)).find((j) => j.id === generationId)).toEqual({ id: generationId, chatId, text });
  });

  it('a browser logs in with the token: an HttpOnly, SameSite=Strict cookie that is not the token opens the board', async () => {
    const form = await call(api, '/admin/login');
    expect(form.status).toBe(200);
    expect(form.body).toContain('name="token"');
    const wrong = await login(api, `${ADMIN_TOKEN}x`);
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();

    const ok = await login(api, ADMIN_TOKEN);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/admin/queues');
    const setCookie = ok.headers.get('set-cookie') ?? '';
    expect(setCookie).toMatch(/^ragstream_admin=[^;]+;/);
    expect(setCookie).toMatch(/; HttpOnly/i);
    expect(setCookie).toMatch(/; SameSite=Strict/i);
    expect(setCookie).toMatch(/; Path=\/admin(;|$)/);
    // Plain HTTP here; Secure is set only when the request came over https.
    expect(setCookie).not.toMatch(/; Secure/i);
    const cookie = setCookie.split(';')[0] ?? '';
    expect(cookie).not.toContain(ADMIN_TOKEN);
    expect(decodeURIComponent(cookie)).not.toContain(ADMIN_TOKEN);

    const board = await call(api, QUEUES, { headers: { cookie } });
    expect(board.status).toBe(200);
    expect((board.body as { queues: BoardQueue[] }).queues).toHaveLength(2);
    const page = await call(api, '/admin/queues', { headers: { cookie, accept: 'text/html' } });
    expect(page.status).toBe(200);
    expect(page.body).not.toContain('action="/admin/login"');
    // The page's scripts sit behind the same check; the cookie (Path=/admin) reaches them.
    const script = /src="(static\/js\/main[^"]+)"/.exec(String(page.body))?.[1];
    expect(script).toBeDefined();
    expect((await call(api, `/admin/queues/${script}`, { headers: { cookie } })).status).toBe(200);
    expect((await call(api, `/admin/queues/${script}`)).status).toBe(401);
    // The session is bound to this node's token: a node with another (or no) token refuses it.
    expectError(await call(closed.api(0), QUEUES, { headers: { cookie } }), 401, 'unauthorized');
  });

  it('never logs the token', () => {
    expect(cluster.logs()).not.toContain(ADMIN_TOKEN);
  });
});

describe('ADMIN_TOKEN configuration', () => {
  it('an API node with a token under 16 characters exits 1, names the variable and not its value', async () => {
    const child = new ManagedProcess('api', 'apps/api/src/main.ts', { ADMIN_TOKEN: 'short-token', REDIS_PREFIX: 'rstest-config' });
    expect(await child.waitForExit()).toBe(1);
    expect(child.logs).toMatch(/invalid configuration/);
    expect(child.logs).toMatch(/ADMIN_TOKEN/);
    expect(child.logs).not.toContain('short-token');
  });
});
