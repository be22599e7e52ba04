import { randomUUID } from 'node:crypto';
import { RedisKeys } from '@ragstream/protocol';
import { deleteKeysWithPrefix, TEST_REDIS_URL } from '@ragstream/testing';
import type { Redis } from 'ioredis';
import { Redis as IoRedis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Presence } from './presence.ts';

describe('Presence heartbeat', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs a failed refresh at warn with the node id instead of dropping it', async () => {
    vi.useFakeTimers();
    let failing = false;
    const reply = () => (failing ? Promise.reject(new Error('connection lost')) : Promise.resolve(1));
    // A real Redis could not be made to fail the heartbeat's commands on cue.
    const redis = { hset: reply, pexpire: reply, hdel: reply } as unknown as Redis;
    const warnings: { message: string; fields: Record<string, unknown> }[] = [];
    const presence = new Presence(redis, new RedisKeys('rstest-presence'), 'node-7', {
      warn: (message, fields) => warnings.push({ message, fields }),
      error: (message, fields) => warnings.push({ message, fields }),
    });
    await presence.connected('chat-1');
    presence.start();
    failing = true;
    await vi.advanceTimersByTimeAsync(5_000);
    expect(warnings).toEqual([{ message: 'presence heartbeat failed', fields: { nodeId: 'node-7', err: expect.any(Error) } }]);
    failing = false;
    await presence.stop();
  });
});

describe('Presence with a limit, on real Redis', () => {
  const keys = new RedisKeys(`rstest-${randomUUID().slice(0, 8)}`);
  let redis: Redis;
  const logger = { warn: () => undefined, error: () => undefined };

  beforeAll(() => {
    redis = new IoRedis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis.disconnect();
    await deleteKeysWithPrefix(keys.prefix);
  });

  it('two nodes share one limit per id: the one past it is refused, and a disconnect frees a place', async () => {
    const userKey = (userId: string): string => keys.userConnections(userId);
    const a = new Presence(redis, keys, 'node-a', logger, userKey);
    const b = new Presence(redis, keys, 'node-b', logger, userKey);
    expect(await a.connectedWithin('u1', 3)).toBe(true);
    expect(await b.connectedWithin('u1', 3)).toBe(true);
    // Concurrent on one node: both count, only the one within the limit is taken.
    expect(await Promise.all([a.connectedWithin('u1', 3), a.connectedWithin('u1', 3)])).toEqual([true, false]);
    expect(await b.connectedWithin('u1', 3)).toBe(false);
    expect(await b.connectedWithin('u2', 3)).toBe(true);
    await b.disconnected('u1');
    expect(await b.connectedWithin('u1', 3)).toBe(true);
    expect(await redis.hgetall(keys.userConnections('u1'))).toEqual({
      'node-a': expect.stringMatching(/^2:\d+$/),
      'node-b': expect.stringMatching(/^1:\d+$/),
    });
  });

  it('a node that stopped refreshing (crashed) no longer counts once its entry expires', async () => {
    const userKey = (userId: string): string => keys.userConnections(userId);
    const live = new Presence(redis, keys, 'node-live', logger, userKey);
    await redis.hset(keys.userConnections('u3'), 'node-dead', `5:${Date.now() - 1}`);
    expect(await live.connectedWithin('u3', 1)).toBe(true);
    expect(await live.connectedWithin('u3', 1)).toBe(false);
    expect(await live.connectedWithin('u3', 0)).toBe(true);
  });
});
