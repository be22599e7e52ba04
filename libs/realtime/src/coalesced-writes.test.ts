import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import { RedisClusterServers, TEST_REDIS_URL } from '@ragstream/testing';
import { Cluster, Redis } from 'ioredis';
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

describe('CoalescedWrites on a Redis Cluster', () => {
  let servers: RedisClusterServers;
  let cluster: Cluster;

  beforeAll(async () => {
    servers = await RedisClusterServers.start(3);
    cluster = new Cluster(servers.seedNodes.split(',').map((node) => ({ host: '127.0.0.1', port: Number(node.split(':')[1]) })));
    // Every master connected, so that each has a stream to hold.
    await Promise.all(Array.from({ length: 30 }, (_, i) => cluster.set(`coalesced:${i}`, String(i))));
  }, 60_000);
  afterAll(async () => {
    cluster?.disconnect();
    await servers?.stop();
  });

  it('holds every master’s connection: the commands of one turn leave in one write per node', async () => {
    const masters = cluster.nodes('master');
    expect(masters).toHaveLength(3);
    const writes = masters.map((node) => countWrites(node.stream as Socket));
    const coalesced = new CoalescedWrites(cluster);
    coalesced.hold();
    const values = await Promise.all(Array.from({ length: 30 }, (_, i) => cluster.get(`coalesced:${i}`)));
    expect(values).toEqual(Array.from({ length: 30 }, (_, i) => String(i)));
    // Thirty keys spread over three masters: one write each.
    expect(writes.map((w) => w.count())).toEqual([1, 1, 1]);
  });
});
