import { EventEmitter } from 'node:events';
import { RedisKeys } from '@ragstream/protocol';
import { describe, expect, it } from 'vitest';
import { FrameHub } from './frame-hub.ts';
import type { RedisClient } from './redis-connection.ts';

/** The part of an ioredis Cluster the hub uses: sharded subscriptions, one slot per command, and its events. */
class FakeCluster extends EventEmitter {
  readonly isCluster = true;
  readonly status = 'ready';
  /** What reached "Redis" and the members, in order. */
  readonly events: string[] = [];

  ssubscribe(...channels: string[]): Promise<number> {
    this.events.push(`ssubscribe ${channels.join(' ')}`);
    return Promise.resolve(channels.length);
  }

  sunsubscribe(...channels: string[]): Promise<number> {
    this.events.push(`sunsubscribe ${channels.join(' ')}`);
    return Promise.resolve(channels.length);
  }
}

describe('FrameHub on a Redis Cluster', () => {
  const keys = new RedisKeys('rstest-hub');
  const logger = { warn: () => undefined, error: () => undefined };

  it('subscribes every chat again, one command each, when the shard subscribers come back; only then its members resync from the log', async () => {
    const cluster = new FakeCluster();
    const hub = new FrameHub(cluster as unknown as RedisClient, keys, logger);
    let resynced = 0;
    const bothResynced = new Promise<void>((resolve) => {
      for (const chatId of ['a', 'b']) {
        void hub.join(chatId, {
          frame: () => undefined,
          reconnected: () => {
            cluster.events.push(`resync ${chatId}`);
            resynced += 1;
            if (resynced === 2) resolve();
          },
        });
      }
    });
    cluster.events.length = 0;

    cluster.emit('subscribersReady');
    await bothResynced;
    const [a, b] = [keys.chatFrames('a'), keys.chatFrames('b')];
    expect(cluster.events).toEqual([`ssubscribe ${a}`, `ssubscribe ${b}`, 'resync a', 'resync b']);
  });

  it('hands sharded messages of a joined chat to its members, and nothing of other chats', async () => {
    const cluster = new FakeCluster();
    const hub = new FrameHub(cluster as unknown as RedisClient, keys, logger);
    const frames: unknown[] = [];
    await hub.join('a', { frame: (frame) => frames.push(frame), reconnected: () => undefined });
    const frame = { seq: 1, mt: 'typing_indicator', chatId: 'a', generationId: 'gen-1', attempt: 1, replyTo: 'm1' };
    cluster.emit('smessage', keys.chatFrames('a'), JSON.stringify(frame));
    cluster.emit('smessage', keys.chatFrames('other'), JSON.stringify({ ...frame, chatId: 'other' }));
    cluster.emit('message', keys.chatFrames('a'), JSON.stringify({ ...frame, seq: 2 }));
    expect(frames).toEqual([frame]);
  });
});
