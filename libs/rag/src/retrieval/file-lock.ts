import { lock } from 'proper-lockfile';

export interface FileLockOptions {
  /** Give up after this long (default 30 s). */
  timeoutMs?: number;
  /** A lock not refreshed for this long belongs to a dead holder and is taken over (default 30 s, at least 2 s). */
  staleMs?: number;
  signal?: AbortSignal;
}

export class FileLockTimeoutError extends Error {
  constructor(path: string, timeoutMs: number) {
    super(`could not take the lock ${path} within ${timeoutMs} ms`);
    this.name = 'FileLockTimeoutError';
  }
}

/** The lock was taken over while held: this process stalled past `staleMs`, or the lock was removed. */
export class FileLockCompromisedError extends Error {
  constructor(path: string, cause: Error) {
    super(`lost the lock ${path} while holding it: ${cause.message}`, { cause });
    this.name = 'FileLockCompromisedError';
  }
}

const MAX_RETRY_DELAY_MS = 100;

/**
 * Runs `action` while holding an exclusive lock at `path` (proper-lockfile: a directory made
 * atomically, whose mtime the holder refreshes; one left by a crashed process goes stale and is
 * taken over), so that writers in different worker processes that share a data directory take
 * turns (two writers that both start from version N would otherwise lose one's changes).
 *
 * `action` gets a signal that aborts with a FileLockCompromisedError if the lock is lost: check
 * it before publishing. The call then rejects with that error even if `action` did not look.
 */
export async function withFileLock<T>(
  path: string,
  action: (lockLost: AbortSignal) => Promise<T>,
  options: FileLockOptions = {},
): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  const staleMs = options.staleMs ?? 30_000;
  const lost = new AbortController();
  const acquiring = lock(path, {
    lockfilePath: path,
    realpath: false,
    stale: staleMs,
    update: staleMs / 3,
    retries: {
      retries: Math.ceil(timeoutMs / MAX_RETRY_DELAY_MS) + 10,
      minTimeout: 5,
      maxTimeout: MAX_RETRY_DELAY_MS,
      maxRetryTime: timeoutMs,
      randomize: true,
    },
    onCompromised: (error) => lost.abort(new FileLockCompromisedError(path, error)),
  }).catch((error: unknown) => {
    throw isCode(error, 'ELOCKED') ? new FileLockTimeoutError(path, timeoutMs) : error;
  });
  const release = await untilAborted(acquiring, path, options.signal);
  try {
    const result = await action(lost.signal);
    lost.signal.throwIfAborted();
    return result;
  } finally {
    // A compromised lock is no longer ours to remove.
    if (!lost.signal.aborted) await release();
  }
}

/** Waits for the lock unless `signal` aborts first; a lock taken after that is given back at once. */
function untilAborted(
  acquiring: Promise<() => Promise<void>>,
  path: string,
  signal: AbortSignal | undefined,
): Promise<() => Promise<void>> {
  if (!signal) return acquiring;
  signal.throwIfAborted();
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      reject(signal.reason);
      acquiring
        .then((release) => release())
        .catch((error: unknown) => {
          // Not taking the lock is what the caller asked for; failing to give it back is not.
          if (!(error instanceof FileLockTimeoutError))
            process.emitWarning(`could not release the abandoned lock ${path}: ${String(error)}`);
        });
    };
    signal.addEventListener('abort', onAbort, { once: true });
    acquiring.then(
      (release) => {
        signal.removeEventListener('abort', onAbort);
        resolve(release);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}

export function isCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
