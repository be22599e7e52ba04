import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findRedisProgram, freePort } from '@ragstream/testing';
import { Redis } from 'ioredis';

/**
 * A redis-server that this suite owns: free port, AOF on in a temp dir, so that it may
 * be shut down, restarted on the same port and dir, and have its clients killed,
 * without touching any Redis someone else uses.
 */
export class OwnRedis {
  private child: ChildProcess | undefined;
  private output = '';
  private constructor(
    private readonly binary: string,
    readonly port: number,
    readonly dir: string,
  ) {}

  static async start(): Promise<OwnRedis> {
    const redis = new OwnRedis(findRedisProgram('redis-server'), await freePort(), mkdtempSync(join(tmpdir(), 'ragstream-chaos-redis-')));
    await redis.launch();
    return redis;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  get logs(): string {
    return this.output;
  }

  get pid(): number | undefined {
    return this.child?.pid;
  }

  private async launch(): Promise<void> {
    const args = [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
      '--dir',
      this.dir,
      '--daemonize',
      'no',
      '--protected-mode',
      'yes',
    ];
    const child = spawn(this.binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    const onData = (chunk: Buffer): void => {
      this.output += chunk.toString();
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`redis-server exited at start:\n${this.output}`);
      if (await this.ping()) break;
      if (Date.now() > deadline) throw new Error(`redis-server on ${this.port} does not answer:\n${this.output}`);
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 50))]);
    }
  }

  /** A short-lived connection for one command. */
  async command<T>(run: (redis: Redis) => Promise<T>): Promise<T> {
    const redis = new Redis(this.url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: 2_000 });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      return await run(redis);
    } finally {
      redis.disconnect();
    }
  }

  async ping(): Promise<boolean> {
    try {
      return (await this.command((r) => r.ping())) === 'PONG';
    } catch {
      return false;
    }
  }

  /** Closes every connection in pub/sub mode (API nodes' frame subscribers, workers' cancel listeners). */
  async killPubSubClients(): Promise<number> {
    return this.command(async (redis) => Number(await redis.call('CLIENT', 'KILL', 'TYPE', 'pubsub')));
  }

  /** SHUTDOWN (the AOF is fsynced), then the same server again on the same port and dir. */
  async restart(downMs: number): Promise<{ downAt: number; upAt: number }> {
    const downAt = await this.shutdown();
    await new Promise((resolve) => setTimeout(resolve, downMs));
    await this.launch();
    return { downAt, upAt: performance.now() };
  }

  /** Returns performance.now() at the moment the server process exited. */
  private async shutdown(): Promise<number> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return performance.now();
    const exited = new Promise<number>((resolve) => child.once('exit', () => resolve(performance.now())));
    try {
      await this.command((redis) => redis.call('SHUTDOWN'));
    } catch {
      // SHUTDOWN closes the connection instead of answering.
    }
    const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
    const at = await exited;
    clearTimeout(timer);
    return at;
  }

  async stop(): Promise<void> {
    const child = this.child;
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}
