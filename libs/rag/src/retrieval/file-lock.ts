import { open, rm, stat, utimes } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

export interface FileLockOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** A lock file not touched for this long belongs to a dead holder and is broken (default 30 s). */
  staleMs?: number;
  signal?: AbortSignal;
}

export class FileLockTimeoutError extends Error {
  constructor(path: string, timeoutMs: number) {
    super(`could not take the lock ${path} within ${timeoutMs} ms`);
    this.name = 'FileLockTimeoutError';
  }
}

/**
 * Runs `action` while holding an exclusive lock file, so that writers in
 * different worker processes that share a data directory take turns (two
 * writers that both start from version N would otherwise lose one's changes).
 * The file is created with O_EXCL; the holder touches it periodically so that
 * only a lock left by a crashed process goes stale and is broken.
 */
export async function withFileLock<T>(path: string, action: () => Promise<T>, options: FileLockOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 30_000;
  const deadline = Date.now() + timeoutMs;
  let delay = 5;
  for (;;) {
    options.signal?.throwIfAborted();
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(`${process.pid} ${new Date().toISOString()}\n`);
      await handle.close();
      break;
    } catch (error) {
      if (!isCode(error, 'EEXIST')) throw error;
    }
    if (await isStale(path, staleMs)) {
      await rm(path, { force: true });
      continue;
    }
    if (Date.now() >= deadline) throw new FileLockTimeoutError(path, timeoutMs);
    await sleep(delay, undefined, { signal: options.signal });
    delay = Math.min(delay * 2, 100);
  }

  const heartbeat = setInterval(() => {
    const now = new Date();
    utimes(path, now, now).catch(() => undefined);
  }, Math.max(50, staleMs / 3));
  heartbeat.unref();
  try {
    return await action();
  } finally {
    clearInterval(heartbeat);
    await rm(path, { force: true });
  }
}

async function isStale(path: string, staleMs: number): Promise<boolean> {
  try {
    return Date.now() - (await stat(path)).mtimeMs > staleMs;
  } catch (error) {
    if (isCode(error, 'ENOENT')) return false;
    throw error;
  }
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
