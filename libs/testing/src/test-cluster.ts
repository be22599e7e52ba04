import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { ManagedProcess } from './managed-process.ts';

export const TEST_REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/**
 * The per-user, per-organisation and queue limits lifted (0: none), for the benchmark, the load
 * test and the chaos suite: they speak for one user across hundreds of chats at once, and
 * measure the plumbing, not the limits. Frames per connection stay limited, as in production.
 */
export const LOAD_GENERATOR_LIMITS: Readonly<Record<string, string>> = {
  MESSAGES_PER_MINUTE_PER_USER: '0',
  ANSWERS_IN_PROGRESS_PER_USER: '0',
  ANSWERS_IN_PROGRESS_PER_ORGANISATION: '0',
  CONNECTIONS_PER_USER: '0',
  GENERATION_QUEUE_MAX_WAITING: '0',
  TOKEN_QUOTA_USER_DAILY: '0',
  TOKEN_QUOTA_USER_MONTHLY: '0',
  TOKEN_QUOTA_ORGANISATION_DAILY: '0',
  TOKEN_QUOTA_ORGANISATION_MONTHLY: '0',
};

export interface ClusterOptions {
  apis?: number;
  workers?: number;
  /** Environment for every process (e.g. LLM_PROVIDER, SYNTHETIC_TOKENS). */
  env?: Record<string, string>;
  workerEnv?: Record<string, string>;
  apiEnv?: Record<string, string>;
  /** Redis for every process and for the key cleanup in `stop` (default TEST_REDIS_URL); a redis+cluster:// URL is not cleaned. */
  redisUrl?: string;
  /** How long each process may take to log its readiness (default 30 s). */
  readyTimeoutMs?: number;
}

/**
 * API nodes and worker processes on real Redis, isolated by a unique key prefix and
 * data directory; `stop` kills them and deletes the prefix's keys (never FLUSHALL).
 */
export class TestCluster {
  readonly apis: ManagedProcess[] = [];
  readonly workers: ManagedProcess[] = [];
  readonly apiUrls: string[] = [];
  readonly prefix = `rstest-${randomUUID().slice(0, 8)}`;
  readonly dataDir = mkdtempSync(join(tmpdir(), 'ragstream-test-'));
  private workerCount = 0;

  private constructor(private readonly options: ClusterOptions) {}

  static async start(options: ClusterOptions = {}): Promise<TestCluster> {
    const cluster = new TestCluster(options);
    try {
      await Promise.all([
        ...Array.from({ length: options.apis ?? 1 }, () => cluster.addApi()),
        ...Array.from({ length: options.workers ?? 1 }, () => cluster.addWorker()),
      ]);
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  get redisUrl(): string {
    return this.options.redisUrl ?? TEST_REDIS_URL;
  }

  get baseEnv(): Record<string, string> {
    return {
      REDIS_URL: this.redisUrl,
      REDIS_PREFIX: this.prefix,
      DATA_DIR: this.dataDir,
      LOG_LEVEL: 'info',
      ...this.options.env,
    };
  }

  async addApi(): Promise<ManagedProcess> {
    const port = await freePort();
    const api = new ManagedProcess(`api-${this.apis.length}`, 'apps/api/src/main.ts', {
      ...this.baseEnv,
      ...this.options.apiEnv,
      PORT: String(port),
      NODE_ID: `node-${this.apis.length}-${port}`,
    });
    this.apis.push(api);
    this.apiUrls.push(`http://127.0.0.1:${port}`);
    await api.waitForOutput(/api node listening/, this.options.readyTimeoutMs);
    return api;
  }

  async addWorker(env: Record<string, string> = {}): Promise<ManagedProcess> {
    const worker = new ManagedProcess(`worker-${this.workerCount++}`, 'apps/worker/src/main.ts', {
      ...this.baseEnv,
      ...this.options.workerEnv,
      ...env,
    });
    this.workers.push(worker);
    await worker.waitForOutput(/worker ready/, this.options.readyTimeoutMs);
    return worker;
  }

  api(index = 0): string {
    const url = this.apiUrls[index];
    if (url === undefined) throw new Error(`no API node ${index}`);
    return url;
  }

  logs(): string {
    return [...this.apis, ...this.workers].map((p) => `----- ${p.name} (pid ${p.pid}) -----\n${p.logs}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all([...this.apis, ...this.workers].map((p) => p.stop()));
    // A Redis Cluster here is the test's own, and goes with it: only a shared Redis needs cleaning.
    if (!this.redisUrl.startsWith('redis+cluster://')) await deleteKeysWithPrefix(this.prefix, this.redisUrl);
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Deletes one test's keys only (BullMQ's start with `{prefix:`): a shared Redis is never flushed. */
export async function deleteKeysWithPrefix(prefix: string, redisUrl = TEST_REDIS_URL): Promise<void> {
  const redis = new Redis(redisUrl, { lazyConnect: true });
  await redis.connect();
  try {
    for (const pattern of [`${prefix}:*`, `{${prefix}:*`]) {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys);
      } while (cursor !== '0');
    }
  } finally {
    redis.disconnect();
  }
}
