import type { RedisTarget } from '@ragstream/runtime';
import { Cluster, Redis } from 'ioredis';

/** A connection to a standalone Redis or to a Redis Cluster: the commands this project sends work on both. */
export type RedisClient = Redis | Cluster;

export interface RedisConnectionOptions {
  /** Shown in CLIENT LIST, so operators can tell connections apart. */
  name: string;
  /** BullMQ workers and subscribers need `null`: commands wait for a reconnect instead of failing. */
  retryForever?: boolean;
}

export function createRedis(target: RedisTarget, options: RedisConnectionOptions): RedisClient {
  const redisOptions = {
    connectionName: options.name,
    maxRetriesPerRequest: options.retryForever ? null : 3,
    enableReadyCheck: true,
  };
  if (target.kind === 'standalone') return new Redis(target.url, redisOptions);
  return new Cluster(target.nodes, {
    redisOptions: { ...redisOptions, username: target.username, password: target.password },
    // Frames travel on sharded channels: one subscriber connection per master, each for its slots' chats.
    shardedSubscribers: true,
  });
}

export { Cluster, Redis };
