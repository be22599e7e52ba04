import { randomUUID } from 'node:crypto';
import { RedisKeys } from '@ragstream/protocol';
import { deleteKeysWithPrefix, TEST_REDIS_URL } from '@ragstream/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RateLimit } from './rate-limit.ts';

describe('RateLimit', () => {
  const keys = new RedisKeys(`rstest-${randomUUID().slice(0, 8)}`);
  let a: Redis;
  let b: Redis;

  beforeAll(() => {
    a = new Redis(TEST_REDIS_URL);
    b = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    a.disconnect();
    b.disconnect();
    await deleteKeysWithPrefix(keys.prefix);
  });

  it('shared: two nodes (two Redis clients) count against one limit, and say when to retry', async () => {
    const onA = RateLimit.shared(a, keys.rateLimit('messages'), 3, 60, 10);
    const onB = RateLimit.shared(b, keys.rateLimit('messages'), 3, 60, 10);
    expect(await onA.take('u1')).toEqual({ allowed: true });
    expect(await onB.take('u1')).toEqual({ allowed: true });
    expect(await onA.take('u1')).toEqual({ allowed: true });
    const refused = await onB.take('u1');
    expect(refused).toMatchObject({ allowed: false, consumed: 4, limit: 3, abusive: false });
    expect(refused.allowed === false && refused.retryAfterSeconds).toBeGreaterThanOrEqual(59);
    expect(await onA.take('u2')).toEqual({ allowed: true });
  });

  it('local: counts per key in this process, and calls far past the limit abusive', async () => {
    const limit = RateLimit.local(2, 1, 3);
    const decisions = [];
    for (let i = 0; i < 8; i += 1) decisions.push(await limit.take('connection-1'));
    expect(decisions.map((d) => d.allowed)).toEqual([true, true, false, false, false, false, false, false]);
    expect(decisions.map((d) => !d.allowed && d.abusive)).toEqual([false, false, false, false, false, false, true, true]);
    expect(await limit.take('connection-2')).toEqual({ allowed: true });
  });

  it('0 points is no limit', async () => {
    const limit = RateLimit.local(0, 1, 10);
    for (let i = 0; i < 100; i += 1) expect(await limit.take('k')).toEqual({ allowed: true });
  });
});
