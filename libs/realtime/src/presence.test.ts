import { RedisKeys } from '@ragstream/protocol';
import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { Presence } from './presence.ts';

describe('Presence heartbeat', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('logs a failed refresh at warn with the node id instead of dropping it', async () => {
    vi.useFakeTimers();
    let failing = false;
    const pipeline = {
      hset: () => pipeline,
      pexpire: () => pipeline,
      hdel: () => pipeline,
      exec: () => (failing ? Promise.reject(new Error('connection lost')) : Promise.resolve([])),
    };
    // Only the pipeline is used; a real Redis could not be made to fail this one call on cue.
    const redis = { pipeline: () => pipeline } as unknown as Redis;
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
