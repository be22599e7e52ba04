import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '@ragstream/runtime';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../api-error.ts';
import { errorHandler, notFoundHandler } from './error-handler.ts';

const INTERNAL_DETAIL = 'connect ECONNREFUSED 10.0.0.7:27017 in /srv/ragstream/libs/store/src/mongo-chat-store.ts';

const logged: { level: string; msg: string; fields?: Record<string, unknown> }[] = [];
const logger: Logger = {
  debug: (msg, fields) => logged.push({ level: 'debug', msg, fields }),
  info: (msg, fields) => logged.push({ level: 'info', msg, fields }),
  warn: (msg, fields) => logged.push({ level: 'warn', msg, fields }),
  error: (msg, fields) => logged.push({ level: 'error', msg, fields }),
  child: () => logger,
};

let server: Server;
let base: string;

beforeAll(async () => {
  const app = express();
  app.use(express.json({ limit: 64 }));
  app.get('/sync', () => {
    throw new Error(INTERNAL_DETAIL);
  });
  app.get('/async', async () => {
    await Promise.resolve();
    throw new TypeError(INTERNAL_DETAIL);
  });
  app.get('/not-an-error', () => {
    throw { stack: INTERNAL_DETAIL };
  });
  app.get('/refused', () => {
    throw new ApiError('chat_not_found', 'chat c1 does not exist');
  });
  app.get('/after-headers', (_req, res) => {
    res.write('partial');
    throw new Error(INTERNAL_DETAIL);
  });
  app.post('/body', (_req, res) => {
    res.json({ ok: true });
  });
  app.use(notFoundHandler);
  app.use(errorHandler(logger));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** What a client can see of a response: status, headers and body. */
async function seen(path: string, init?: RequestInit): Promise<{ status: number; text: string }> {
  const response = await fetch(`${base}${path}`, init);
  return { status: response.status, text: `${JSON.stringify([...response.headers])}\n${await response.text()}` };
}

describe('errorHandler: no stack trace or internal error text reaches a client', () => {
  it('an unexpected error, thrown or rejected, is 500 internal with a fixed message; the log has the detail and the URL without its token', async () => {
    for (const path of ['/sync?token=tok-1', '/async?token=tok-1', '/not-an-error?token=tok-1']) {
      const { status, text } = await seen(path);
      expect({ path, status }).toEqual({ path, status: 500 });
      expect(text).toContain('{"code":"internal","message":"internal server error"}');
      for (const leak of ['ECONNREFUSED', 'mongo-chat-store', '.ts', '    at ', 'Error'])
        expect({ path, leak, found: text.includes(leak) }).toMatchObject({ found: false });
    }
    const failures = logged.filter((line) => line.msg === 'request failed');
    expect(failures).toHaveLength(3);
    expect(failures[0]?.fields).toMatchObject({ method: 'GET', url: '/sync?token=tok-1', status: 500, code: 'internal' });
    expect((failures[0]?.fields?.err as Error | undefined)?.message).toBe(INTERNAL_DETAIL);
  });

  it('a client error keeps its code and message; body-parser errors get theirs without internals', async () => {
    expect(await seen('/refused')).toMatchObject({
      status: 404,
      text: expect.stringContaining('{"code":"chat_not_found","message":"chat c1 does not exist"}'),
    });
    const json = { method: 'POST', headers: { 'content-type': 'application/json' } };
    const invalid = await seen('/body', { ...json, body: '{"a":' });
    expect(invalid.status).toBe(400);
    expect(invalid.text).toContain('{"code":"invalid_json","message":"request body is not valid JSON"}');
    expect(invalid.text).not.toContain('    at ');
    const large = await seen('/body', { ...json, body: JSON.stringify({ text: 'x'.repeat(200) }) });
    expect(large.status).toBe(413);
    expect(large.text).toContain('{"code":"message_too_large","message":"request body is too large"}');
    const malformedUri = await seen('/chat/%E0%A4%A');
    expect(malformedUri.status).toBe(404);
    expect(malformedUri.text).not.toContain('    at ');
    expect(logged.some((line) => line.level === 'debug' && line.msg === 'request refused')).toBe(true);
  });

  it('an error after the headers went out ends the response without writing the error into it', async () => {
    const { status, text } = await seen('/after-headers');
    expect(status).toBe(200);
    expect(text.endsWith('partial')).toBe(true);
  });
});
