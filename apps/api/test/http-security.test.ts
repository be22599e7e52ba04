import { request } from 'node:http';
import { HttpClient, TestCluster } from '@ragstream/testing';
import { io } from 'socket.io-client';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';

const ALLOWED = 'https://app.example.com';
const ALSO_ALLOWED = 'http://localhost:5173';
const DISALLOWED = 'https://evil.example';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP request with exactly these headers (fetch would not send an Origin of our choosing). */
function raw(baseUrl: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(new URL(path, baseUrl), { method, headers }, (res) => {
      // An event stream never ends by itself: its head and first bytes are enough.
      if (res.headers['content-type']?.startsWith('text/event-stream')) {
        res.once('data', (chunk: Buffer) => {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: chunk.toString() });
          req.destroy();
        });
        return;
      }
      let text = '';
      res.on('data', (chunk: Buffer) => {
        text += chunk.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** Connects a Socket.IO client that sends this Origin; resolves with 'connected' or the connect_error message. */
function sioOutcome(baseUrl: string, chatId: string, origin: string, transport: 'websocket' | 'polling'): Promise<string> {
  const socket = io(`${baseUrl}/chat`, {
    transports: [transport],
    auth: { chatId },
    extraHeaders: { origin },
    reconnection: false,
    forceNew: true,
  });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.close();
      resolve('connected');
    });
    socket.once('connect_error', (err: Error & { context?: { status?: number; responseText?: string } }) => {
      socket.close();
      resolve(`connect_error ${err.message}${err.context?.status ? ` ${err.context.status}` : ''}`);
    });
  });
}

/** Opens a raw WebSocket with this Origin; resolves with 'open' or the HTTP status that refused it. */
function wsOutcome(baseUrl: string, chatId: string, origin: string): Promise<{ outcome: string; body?: string }> {
  const ws = new WebSocket(`${baseUrl.replace(/^http/, 'ws')}/chat/ws/${chatId}`, { origin });
  return new Promise((resolve) => {
    ws.once('open', () => {
      ws.close();
      resolve({ outcome: 'open' });
    });
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => {
        body += chunk.toString();
      });
      res.on('end', () => resolve({ outcome: `refused ${res.statusCode}`, body }));
    });
    ws.once('error', () => undefined);
  });
}

describe('HTTP security: CORS_ORIGIN on every transport, helmet headers', () => {
  let cluster: TestCluster;
  let base: string;
  let chatId: string;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      workers: 0,
      // Both transports, so that long-polling's CORS headers are checked too.
      env: { CORS_ORIGIN: `${ALLOWED}, ${ALSO_ALLOWED}`, SOCKETIO_POLLING: '1' },
    });
    base = cluster.api(0);
    chatId = await new HttpClient(base).createChat('u-cors');
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('REST: an allowed origin gets the CORS headers, a preflight is answered; another origin is refused with 403', async () => {
    for (const origin of [ALLOWED, ALSO_ALLOWED]) {
      const allowed = await raw(base, 'GET', `/chat/${chatId}`, { origin });
      expect(allowed.status).toBe(200);
      expect(allowed.headers['access-control-allow-origin']).toBe(origin);
      expect(allowed.headers.vary).toMatch(/origin/i);
      expect(allowed.headers['access-control-expose-headers']).toContain('x-request-id');
    }
    const preflight = await raw(base, 'OPTIONS', '/chat/', {
      origin: ALLOWED,
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'content-type,authorization',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(preflight.headers['access-control-allow-methods']).toContain('POST');
    expect(preflight.headers['access-control-allow-headers']).toContain('authorization');

    const refused = await raw(base, 'GET', `/chat/${chatId}`, { origin: DISALLOWED });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'origin_not_allowed' });
    expect(refused.headers['access-control-allow-origin']).toBeUndefined();
    const refusedPreflight = await raw(base, 'OPTIONS', '/chat/', { origin: DISALLOWED, 'access-control-request-method': 'POST' });
    expect(refusedPreflight.status).toBe(403);
    expect(refusedPreflight.headers['access-control-allow-origin']).toBeUndefined();

    // A simple cross-site POST (a form, no preflight) is refused before it is handled: nothing is stored.
    const post = await raw(
      base,
      'POST',
      '/chat/',
      { origin: DISALLOWED, 'content-type': 'application/json' },
      JSON.stringify({ userId: 'u-cross-site' }),
    );
    expect(post.status).toBe(403);
    const chats = await raw(base, 'GET', '/chat/user/u-cross-site', {});
    expect(JSON.parse(chats.body)).toMatchObject({ items: [] });
  });

  it('REST: no Origin (curl, servers) and the node’s own page pass; health and metrics stay open to probes', async () => {
    expect((await raw(base, 'GET', `/chat/${chatId}`, {})).status).toBe(200);
    const host = new URL(base).host;
    const own = await raw(base, 'GET', `/chat/${chatId}`, { origin: base, host });
    expect(own.status).toBe(200);
    for (const path of ['/healthz', '/readyz', '/metrics']) {
      expect({ path, status: (await raw(base, 'GET', path, { origin: DISALLOWED })).status }).toEqual({ path, status: 200 });
    }
  });

  it('SSE: an allowed origin gets the event stream with CORS headers, another origin 403', async () => {
    const allowed = await raw(base, 'GET', `/chat/${chatId}/events`, { origin: ALLOWED, accept: 'text/event-stream' });
    expect(allowed.status).toBe(200);
    expect(allowed.headers['content-type']).toMatch(/^text\/event-stream/);
    expect(allowed.headers['access-control-allow-origin']).toBe(ALLOWED);
    expect(allowed.body).toContain('retry:');

    const refused = await raw(base, 'GET', `/chat/${chatId}/events`, { origin: DISALLOWED, accept: 'text/event-stream' });
    expect(refused.status).toBe(403);
    expect(JSON.parse(refused.body)).toMatchObject({ code: 'origin_not_allowed' });
  });

  it('Socket.IO: an allowed origin connects over WebSocket and long-polling; another origin is refused on both', async () => {
    expect(await sioOutcome(base, chatId, ALLOWED, 'websocket')).toBe('connected');
    expect(await sioOutcome(base, chatId, ALLOWED, 'polling')).toBe('connected');
    expect(await sioOutcome(base, chatId, DISALLOWED, 'websocket')).toMatch(/^connect_error websocket error/);
    expect(await sioOutcome(base, chatId, DISALLOWED, 'polling')).toBe('connect_error xhr poll error 403');

    // Long-polling's CORS headers come from the same policy.
    const handshake = await raw(base, 'GET', '/socket.io/?EIO=4&transport=polling', { origin: ALLOWED });
    expect(handshake.status).toBe(200);
    expect(handshake.headers['access-control-allow-origin']).toBe(ALLOWED);
    const refused = await raw(base, 'GET', '/socket.io/?EIO=4&transport=polling', { origin: DISALLOWED });
    expect(refused.status).toBe(403);
  });

  it('helmet: security headers on every response; the chat page and Bull Board each get their CSP', async () => {
    for (const path of ['/', `/chat/${chatId}`, '/healthz', '/admin/login']) {
      const response = await raw(base, 'GET', path, {});
      expect({ path, nosniff: response.headers['x-content-type-options'] }).toEqual({ path, nosniff: 'nosniff' });
      expect(response.headers['x-frame-options']).toBe('SAMEORIGIN');
      expect(response.headers['referrer-policy']).toBe('no-referrer');
      expect(response.headers['x-powered-by']).toBeUndefined();
      const csp = String(response.headers['content-security-policy']);
      expect(csp).toContain("default-src 'self'");
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      expect(csp).not.toContain('upgrade-insecure-requests');
    }
    const board = await raw(base, 'GET', '/admin/queues', { accept: 'text/html' });
    expect(board.status).toBe(401);
    const boardCsp = String(board.headers['content-security-policy']);
    expect(boardCsp).toContain("script-src 'self';");
    expect(boardCsp).toContain("style-src 'self' 'unsafe-inline' https://fonts.googleapis.com");
    expect(boardCsp).toContain('https://fonts.gstatic.com');
  });

  it('WebSocket: an allowed origin opens, another origin gets 403 before any chat is opened', async () => {
    expect((await wsOutcome(base, chatId, ALLOWED)).outcome).toBe('open');
    const refused = await wsOutcome(base, chatId, DISALLOWED);
    expect(refused.outcome).toBe('refused 403');
    expect(JSON.parse(refused.body ?? '')).toMatchObject({ code: 'origin_not_allowed' });
  });
});
