import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { TEST_REDIS_URL } from '@ragstream/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CoalescedWrites } from './coalesced-writes.ts';

/** Counts the socket's system-level writes (one per `_write`, one per `_writev` of a batch). */
function countWrites(socket: Socket): { count: () => number } {
  let writes = 0;
  const target = socket as unknown as Record<'_write' | '_writev', (...args: unknown[]) => unknown>;
  for (const name of ['_write', '_writev'] as const) {
    const original = target[name].bind(socket);
    target[name] = (...args: unknown[]) => {
      writes += 1;
      return original(...args);
    };
  }
  return { count: () => writes };
}

describe('CoalescedWrites on real Redis', () => {
  const key = `rstest-${randomUUID().slice(0, 8)}:coalesced`;
  let redis: Redis;

  beforeAll(async () => {
    redis = new Redis(TEST_REDIS_URL);
    await redis.ping();
  });
  afterAll(async () => {
    await redis.del(key);
    redis.disconnect();
  });

  it('sends the commands of one turn in one write, each with its own reply', async () => {
    const writes = countWrites(redis.stream as Socket);
    const coalesced = new CoalescedWrites(redis);
    coalesced.hold();
    const replies = Promise.all(Array.from({ length: 20 }, (_, i) => redis.rpush(key, String(i))));
    coalesced.hold();
    expect(await replies).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(writes.count()).toBe(1);
    expect(await redis.lrange(key, 0, -1)).toEqual(Array.from({ length: 20 }, (_, i) => String(i)));

    // Without holding, each command is a write of its own; and a hold lasts one turn only.
    const before = writes.count();
    await Promise.all(Array.from({ length: 5 }, () => redis.llen(key)));
    expect(writes.count() - before).toBe(5);
  });

  it('leaves a connection that is not ready alone, so that its commands wait for it as usual', async () => {
    const later = new Redis(TEST_REDIS_URL, { lazyConnect: true });
    try {
      new CoalescedWrites(later).hold();
      expect(await later.ping()).toBe('PONG');
    } finally {
      later.disconnect();
    }
  });
});
