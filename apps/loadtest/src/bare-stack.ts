import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { round } from './percentiles.ts';
import { sampleRedis } from './process-stats.ts';

/** What the bare stack's run.js prints (../shared/bench/stack-ceiling/README.md). */
export interface BareLine {
  chats: number;
  rate: number;
  seconds: number;
  frames: number;
  gaps: number;
  lat_p50: number;
  lat_p99: number;
  cpuPct: Record<string, number>;
  rssMb: Record<string, number>;
}

export interface BareRun {
  line: BareLine;
  /** The tokens its emitters streamed: chats × rate × seconds. */
  tokens: number;
  /** CPU-seconds per 1,000 tokens: servers (as `api`), emitters (as `worker`), Redis (the whole script's) and the load process. */
  cpuPerThousandTokens: { api: number; worker: number; redis: number; load: number; total: number };
}

/** Per 1,000 tokens, by kind of process, from run.js's CPU percentages over its `seconds` of streaming. */
export function bareCosts(line: BareLine, redisCpuSeconds: number): BareRun {
  const tokens = line.chats * line.rate * line.seconds;
  const kind = (prefix: string): number =>
    Object.entries(line.cpuPct)
      .filter(([name]) => name.startsWith(prefix))
      .reduce((sum, [, pct]) => sum + (pct / 100) * line.seconds, 0);
  const per = (cpuSeconds: number): number => round((cpuSeconds * 1000) / tokens, 4);
  const api = per(kind('api'));
  const worker = per(kind('worker'));
  const redis = per(redisCpuSeconds);
  return { line, tokens, cpuPerThousandTokens: { api, worker, redis, load: per(kind('load')), total: round(api + worker + redis, 4) } };
}

/**
 * Runs the bare stack's run.js from `dir` (its packages resolved from `nodePath`) against the
 * Redis at `redisUrl`, whose CPU is read around the run.
 */
export async function runBareStack(
  dir: string,
  options: { chats: number; tokensPerSecond: number; seconds: number; windowMs: number; redisUrl: string; nodePath: string },
): Promise<BareRun> {
  const redis = new Redis(options.redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const before = await sampleRedis(redis);
    const args = [options.chats, options.tokensPerSecond, options.seconds, options.windowMs].map(String);
    const child = spawn(process.execPath, [join(dir, 'run.js'), ...args], {
      env: { ...process.env, REDIS_URL: options.redisUrl, NODE_PATH: options.nodePath },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', resolve);
    });
    const last = out.trim().split('\n').at(-1) ?? '';
    if (code !== 0 || !last.startsWith('{'))
      throw new Error(`the bare stack's run.js exited ${code}: ${err.slice(-2000)}${out.slice(-2000)}`);
    const after = await sampleRedis(redis);
    return bareCosts(JSON.parse(last) as BareLine, after.cpuSeconds - before.cpuSeconds);
  } finally {
    redis.disconnect();
  }
}
