import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { webRoutes } from '../src/http/web-routes.ts';

const dir = mkdtempSync(join(tmpdir(), 'ragstream-web-'));
let server: Server;
let base: string;

beforeAll(async () => {
  mkdirSync(join(dir, 'built', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'built', 'index.html'), '<!doctype html><title>chat</title>');
  writeFileSync(join(dir, 'built', 'assets', 'index-abc123.js'), 'console.log(1)');
  const app = express();
  app.use('/built', webRoutes(join(dir, 'built')));
  app.use('/missing', webRoutes(join(dir, 'missing')));
  server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  rmSync(dir, { recursive: true, force: true });
});

describe('web routes', () => {
  it('serves index.html revalidated and hashed assets cached for a year', async () => {
    const index = await fetch(`${base}/built/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('cache-control')).toBe('no-cache');
    expect(await index.text()).toContain('<title>chat</title>');
    const asset = await fetch(`${base}/built/assets/index-abc123.js`);
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
  });

  it('explains how to build the page when there is no build', async () => {
    const res = await fetch(`${base}/missing/`);
    expect(res.status).toBe(503);
    expect(await res.text()).toContain('npm run build -w @ragstream/web');
  });
});
