import { setTimeout as sleep } from 'node:timers/promises';

/** Resolves after `ms`, or rejects with the abort reason as soon as `signal` aborts. */
export async function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  signal.throwIfAborted();
  if (ms <= 0) return;
  await sleep(ms, undefined, { signal });
}
