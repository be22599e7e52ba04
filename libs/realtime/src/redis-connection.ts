import { Redis } from 'ioredis';

export interface RedisConnectionOptions {
  /** Shown in CLIENT LIST, so operators can tell connections apart. */
  name: string;
  /** BullMQ workers and subscribers need `null`: commands wait for a reconnect instead of failing. */
  retryForever?: boolean;
}

export function createRedis(url: string, options: RedisConnectionOptions): Redis {
  return new Redis(url, {
    connectionName: options.name,
    maxRetriesPerRequest: options.retryForever ? null : 3,
    enableReadyCheck: true,
  });
}

export { Redis };
