import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FileLockCompromisedError, FileLockTimeoutError, withFileLock } from './file-lock.ts';

describe('withFileLock', () => {
  let dir: string;
  let path: string;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'file-lock-'));
    path = join(dir, 'index.lock');
  });

  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  /** Holds the lock until the returned function is called. */
  async function hold(): Promise<() => void> {
    let unblock = (): void => {};
    const taken = new Promise<void>((resolve) => {
      void withFileLock(path, () => {
        resolve();
        return new Promise<void>((done) => {
          unblock = done;
        });
      });
    });
    await taken;
    return () => unblock();
  }

  it('runs actions one at a time and removes the lock afterwards', async () => {
    const order: string[] = [];
    const step = (name: string) => async (): Promise<void> => {
      order.push(`${name} in`);
      await new Promise((resolve) => setTimeout(resolve, 30));
      order.push(`${name} out`);
    };
    await Promise.all([withFileLock(path, step('a')), withFileLock(path, step('b'))]);
    expect(order.join(' ')).toMatch(/^(a in a out b in b out|b in b out a in a out)$/);
    await expect(stat(path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('gives up with FileLockTimeoutError while another holder keeps the lock', async () => {
    const release = await hold();
    await expect(withFileLock(path, async () => 'never', { timeoutMs: 300 })).rejects.toBeInstanceOf(FileLockTimeoutError);
    release();
  });

  it('stops waiting when the signal aborts, and gives back a lock taken after that', async () => {
    const release = await hold();
    const controller = new AbortController();
    const waiting = withFileLock(path, async () => 'never', { signal: controller.signal });
    controller.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
    release();
    await expect(withFileLock(path, async () => 'next', { timeoutMs: 5_000 })).resolves.toBe('next');
  });

  it('tells the action and the caller when the lock is taken away', async () => {
    const outcome = withFileLock(
      path,
      async (lockLost) => {
        // Someone removes the lock, as a process that thinks this holder is dead would.
        await rm(path, { recursive: true, force: true });
        await new Promise((resolve) => lockLost.addEventListener('abort', resolve, { once: true }));
        return 'published anyway';
      },
      { staleMs: 2_000 },
    );
    await expect(outcome).rejects.toBeInstanceOf(FileLockCompromisedError);
  });
});
