import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { Counter } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetricsRegistry } from './metrics-registry.ts';
import { metricsRouter } from './metrics-router.ts';

let server: Server | undefined;

afterEach(async () => {
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serve(token: string | undefined): Promise<string> {
  const registry = createMetricsRegistry();
  new Counter({ name: 'ragstream_test_total', help: 'test', registers: [registry] }).inc(3);
  const app = express();
  app.use(metricsRouter(registry, token));
  server = createServer(app);
  const listening = server;
  await new Promise<void>((resolve) => listening.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(listening.address() as AddressInfo).port}/metrics`;
}

describe('metricsRouter', () => {
  it('is open without a token and serves our metrics with the default ones', async () => {
    const response = await fetch(await serve(undefined));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await response.text();
    expect(text).toContain('ragstream_test_total 3');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('with a token, answers 401 without the bearer or with a wrong one', async () => {
    const url = await serve('s3cret');
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
    expect((await fetch(url, { headers: { authorization: 's3cret' } })).status).toBe(401);
    const ok = await fetch(url, { headers: { authorization: 'Bearer s3cret' } });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('ragstream_test_total 3');
  });
});
