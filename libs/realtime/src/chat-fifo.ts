import type { RedisKeys } from '@ragstream/protocol';
import type { Redis } from 'ioredis';

const PUSH_ONCE = `
if not redis.call('LPOS', KEYS[1], ARGV[1]) then redis.call('RPUSH', KEYS[1], ARGV[1]) end
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('LPOS', KEYS[1], ARGV[1])
`;

interface FifoCommands {
  rsFifoPush(key: string, generationId: string, ttlSeconds: number): Promise<number>;
}

/** Keeps a chat's pending generations long after any single answer could run. */
const FIFO_TTL_SECONDS = 7 * 24 * 3600;

/**
 * Per-chat order of answers: a list of unfinished generation ids, oldest first.
 * Only the head may run; the others wait as delayed jobs and are promoted when it ends.
 */
export class ChatFifo {
  private readonly redis: Redis & FifoCommands;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
  ) {
    redis.defineCommand('rsFifoPush', { numberOfKeys: 1, lua: PUSH_ONCE });
    this.redis = redis as Redis & FifoCommands;
  }

  /** Adds the generation unless present; returns its position (0 = may run now). */
  push(chatId: string, generationId: string): Promise<number> {
    return this.redis.rsFifoPush(this.keys.chatFifo(chatId), generationId, FIFO_TTL_SECONDS);
  }

  async head(chatId: string): Promise<string | undefined> {
    return (await this.redis.lindex(this.keys.chatFifo(chatId), 0)) ?? undefined;
  }

  async remove(chatId: string, generationId: string): Promise<void> {
    await this.redis.lrem(this.keys.chatFifo(chatId), 0, generationId);
  }
}
