import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deleteKeysWithPrefix, freePort, ManagedProcess, TEST_JWT_SECRET, TEST_REDIS_URL } from '@ragstream/testing';
import { afterAll, describe, expect, it } from 'vitest';

describe('processes fail fast on bad configuration', () => {
  it.each([
    ['api', 'apps/api/src/main.ts', { PORT: 'eighty' }, /PORT/],
    ['api', 'apps/api/src/main.ts', { MAX_MESSAGE_BYTES: '-1' }, /MAX_MESSAGE_BYTES/],
    ['api', 'apps/api/src/main.ts', { AUTH_JWT_SECRET: 'too-short' }, /AUTH_JWT_SECRET: must be at least 32/],
    ['api', 'apps/api/src/main.ts', { AUTH_JWT_SECRET: TEST_JWT_SECRET, AUTH_JWKS_URL: 'http://127.0.0.1:1/jwks' }, /not both/],
    ['worker', 'apps/worker/src/main.ts', { WORKER_CONCURRENCY: '0' }, /WORKER_CONCURRENCY/],
    ['worker', 'apps/worker/src/main.ts', { LLM_PROVIDER: 'gpt-17' }, /LLM_PROVIDER/],
  ])('%s exits 1 and names the variable (%o)', async (name, entry, env, pattern) => {
    const child = new ManagedProcess(name, entry, { ...env, REDIS_PREFIX: 'rstest-config' });
    expect(await child.waitForExit()).toBe(1);
    expect(child.logs).toMatch(pattern);
    expect(child.logs).toMatch(/invalid configuration/);
    expect(child.logs).not.toContain(TEST_JWT_SECRET);
  });
});

describe('production mode and local mode: authentication', () => {
  const prefix = `rstest-startup-${process.pid}`;
  const dataDir = mkdtempSync(join(tmpdir(), 'ragstream-startup-'));
  const started: ManagedProcess[] = [];
  afterAll(async () => {
    await Promise.all(started.map((p) => p.stop()));
    await deleteKeysWithPrefix(prefix);
    rmSync(dataDir, { recursive: true, force: true });
  });

  /** An API node (or worker) on a free port, sharing this suite's Redis prefix and data directory. */
  async function spawn(entry: string, env: Record<string, string>): Promise<ManagedProcess> {
    const child = new ManagedProcess(entry.includes('worker') ? 'worker' : 'api', entry, {
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      DATA_DIR: dataDir,
      PORT: String(await freePort()),
      NODE_ENV: 'development',
      ...env,
    });
    started.push(child);
    return child;
  }

  it.each(['127.0.0.1', '0.0.0.0'])(
    'NODE_ENV=production without auth on %s: the API refuses to start and names AUTH_JWT_SECRET and AUTH_JWKS_URL',
    async (host) => {
      const api = await spawn('apps/api/src/main.ts', { NODE_ENV: 'production', HOST: host });
      expect(await api.waitForExit()).toBe(1);
      expect(api.logs).toMatch(/invalid configuration/);
      expect(api.logs).toMatch(/AUTH_JWT_SECRET: production mode \(NODE_ENV=production\) needs authentication/);
      expect(api.logs).toMatch(/AUTH_JWKS_URL/);
      expect(api.logs).not.toMatch(/api node listening/);
    },
  );

  it.each(['0.0.0.0', '::', '192.0.2.10'])(
    'without auth, bound to %s: the API refuses to start and names HOST and the auth variables',
    async (host) => {
      const api = await spawn('apps/api/src/main.ts', { HOST: host });
      expect(await api.waitForExit()).toBe(1);
      expect(api.logs).toMatch(
        new RegExp(`HOST: without authentication the API binds to localhost only .*not ${host.replace(/\./g, '\\.')}`),
      );
      expect(api.logs).toMatch(/AUTH_JWT_SECRET/);
      expect(api.logs).toMatch(/AUTH_JWKS_URL/);
    },
  );

  it.each(['127.0.0.1', 'localhost'])('without auth on %s: the API starts and says at start that authentication is off', async (host) => {
    const api = await spawn('apps/api/src/main.ts', { HOST: host });
    await api.waitForOutput(/api node listening/);
    await api.waitForOutput(/authentication is off/);
    expect(api.logs).toMatch(/Set AUTH_JWT_SECRET or AUTH_JWKS_URL to turn it on/);
    await api.stop();
  });

  it('with AUTH_JWT_SECRET: production mode on every interface starts, says auth is on, and never logs the secret', async () => {
    const api = await spawn('apps/api/src/main.ts', { NODE_ENV: 'production', HOST: '0.0.0.0', AUTH_JWT_SECRET: TEST_JWT_SECRET });
    await api.waitForOutput(/authentication is on/);
    expect(api.logs).toMatch(/HS256/);
    expect(api.logs).not.toMatch(/authentication is off/);
    expect(api.logs).not.toContain(TEST_JWT_SECRET);
    await api.stop();
  });

  it('the worker authenticates nothing (health and metrics only), so it starts in production mode without auth', async () => {
    const worker = await spawn('apps/worker/src/main.ts', { NODE_ENV: 'production' });
    await worker.waitForOutput(/worker ready/);
    await worker.stop();
  });
});
