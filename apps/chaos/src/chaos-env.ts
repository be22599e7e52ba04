import { GENERATE_QUEUE, RedisKeys } from '@ragstream/protocol';
import type { ScriptedChatStep } from '@ragstream/rag/testing';
import { ScriptedOpenAiChatServer } from '@ragstream/rag/testing';
import type { ManagedProcess } from '@ragstream/testing';
import { HttpClient, LOAD_GENERATOR_LIMITS, TestCluster } from '@ragstream/testing';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { OwnRedis } from './own-redis.ts';

export interface EnvOptions {
  apis: number;
  workers: number;
  /** Environment for every process. */
  env: Record<string, string>;
  workerEnv?: Record<string, string>;
  /** Starts a scripted OpenAI-compatible server in this process; its fallback decides every reply. */
  scripted?: ScriptedChatStep;
}

/** Environments not closed yet: on process exit their children are SIGKILLed, so that none outlives the suite. */
const open = new Set<ChaosEnv>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const env of open) env.killAllNow();
  });
}

/**
 * What one scenario runs against: its own redis-server (AOF on), API nodes and workers
 * on free ports, optionally a scripted model, and a Redis connection to inspect state.
 * `close` ends everything it started, also after a failure.
 */
export class ChaosEnv {
  readonly keys: RedisKeys;
  readonly inspect: Redis;
  readonly queue: Queue;
  private readonly bullConnection: Redis;

  private constructor(
    readonly redis: OwnRedis,
    readonly cluster: TestCluster,
    readonly scripted: ScriptedOpenAiChatServer | undefined,
    readonly options: EnvOptions,
  ) {
    this.keys = new RedisKeys(cluster.prefix);
    // Retry forever: the Redis restart scenario takes this server away for a while.
    this.inspect = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    this.inspect.on('error', () => undefined);
    this.bullConnection = new Redis(redis.url, { maxRetriesPerRequest: null, retryStrategy: () => 100 });
    this.bullConnection.on('error', () => undefined);
    this.queue = new Queue(GENERATE_QUEUE, { connection: this.bullConnection, prefix: this.keys.bullPrefix });
    this.queue.on('error', () => undefined);
    open.add(this);
    installExitHook();
  }

  static async start(options: EnvOptions): Promise<ChaosEnv> {
    const redis = await OwnRedis.start();
    let scripted: ScriptedOpenAiChatServer | undefined;
    try {
      const env = { ...LOAD_GENERATOR_LIMITS, ...options.env };
      if (options.scripted) {
        scripted = await ScriptedOpenAiChatServer.start({ fallback: options.scripted });
        Object.assign(env, {
          LLM_PROVIDER: 'openai',
          OPENAI_BASE_URL: scripted.baseURL,
          OPENAI_API_KEY: 'chaos',
          EMBEDDINGS_PROVIDER: 'offline',
        });
      }
      const cluster = await TestCluster.start({
        apis: options.apis,
        workers: options.workers,
        env,
        workerEnv: options.workerEnv ?? {},
        redisUrl: redis.url,
        // Two cores shared with other work: tsx start-up can be slow.
        readyTimeoutMs: 120_000,
      });
      return new ChaosEnv(redis, cluster, scripted, options);
    } catch (err) {
      await scripted?.close();
      await redis.stop();
      throw err;
    }
  }

  api(index: number): string {
    return this.cluster.api(index);
  }

  http(index = 0): HttpClient {
    return new HttpClient(this.api(index));
  }

  /** URLs of the API nodes still running. */
  liveApiUrls(): string[] {
    return this.cluster.apiUrls.filter((_, i) => this.cluster.apis[i]?.running === true);
  }

  /** A running API node other than `except`, if there is one, else any running one. */
  otherLiveApi(except: string): string | undefined {
    const live = this.liveApiUrls();
    return live.find((url) => url !== except) ?? live[0];
  }

  liveHttp(): HttpClient {
    const url = this.liveApiUrls()[0];
    if (url === undefined) throw new Error('no API node is running');
    return new HttpClient(url);
  }

  liveWorkers(): ManagedProcess[] {
    return this.cluster.workers.filter((w) => w.running);
  }

  /** The worker process that runs (or last ran) a generation's job, from BullMQ's processedBy. */
  async workerOf(generationId: string): Promise<ManagedProcess | undefined> {
    const job = await this.queue.getJob(generationId);
    const runner = job?.processedBy;
    if (!runner) return undefined;
    return this.cluster.workers.find((w) => w.pid !== undefined && runner.endsWith(`-${w.pid}`));
  }

  logs(): string {
    const redisLog = `----- redis-server (pid ${this.redis.pid}, port ${this.redis.port}) -----\n${this.redis.logs}`;
    return `${this.cluster.logs()}\n${redisLog}`;
  }

  /** Synchronous last resort (process exit): SIGKILL every process this env started. */
  killAllNow(): void {
    const pids = [...this.cluster.apis, ...this.cluster.workers].filter((p) => p.running).map((p) => p.pid);
    for (const pid of [...pids, this.redis.pid]) {
      if (pid === undefined) continue;
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // Already gone.
      }
    }
  }

  async close(): Promise<void> {
    open.delete(this);
    await this.queue.close().catch(() => undefined);
    this.bullConnection.disconnect();
    this.inspect.disconnect();
    await this.cluster.stop().catch(() => undefined);
    await this.scripted?.close().catch(() => undefined);
    await this.redis.stop();
  }
}
