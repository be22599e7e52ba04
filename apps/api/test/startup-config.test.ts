import { ManagedProcess } from '@ragstream/testing';
import { describe, expect, it } from 'vitest';

describe('processes fail fast on bad configuration', () => {
  it.each([
    ['api', 'apps/api/src/main.ts', { PORT: 'eighty' }, /PORT/],
    ['api', 'apps/api/src/main.ts', { MAX_MESSAGE_BYTES: '-1' }, /MAX_MESSAGE_BYTES/],
    ['worker', 'apps/worker/src/main.ts', { WORKER_CONCURRENCY: '0' }, /WORKER_CONCURRENCY/],
    ['worker', 'apps/worker/src/main.ts', { LLM_PROVIDER: 'gpt-17' }, /LLM_PROVIDER/],
  ])('%s exits 1 and names the variable (%o)', async (name, entry, env, pattern) => {
    const child = new ManagedProcess(name, entry, { ...env, REDIS_PREFIX: 'rstest-config' });
    expect(await child.waitForExit()).toBe(1);
    expect(child.logs).toMatch(pattern);
    expect(child.logs).toMatch(/invalid configuration/);
  });
});
