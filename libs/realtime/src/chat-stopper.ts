import type { RedisKeys } from '@ragstream/protocol';
import type { Redis } from 'ioredis';
import type { GenerationFinalizer } from './generation-finalizer.ts';
import type { GenerationQueue } from './generation-queue.ts';

/*
 * Marks every unfinished generation of a chat cancelled and tells the workers, in
 * one script: the flag is set before the message goes out, so a worker that picks a
 * job up after the message still sees the flag.
 */
const CANCEL_CHAT = `
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
for _, id in ipairs(ids) do
  local meta = ARGV[1] .. id .. ':meta'
  redis.call('HSET', meta, 'cancel', '1')
  redis.call('EXPIRE', meta, ARGV[3])
  redis.call('PUBLISH', ARGV[2], id)
end
return ids
`;

interface StopperCommands {
  rsCancelChat(fifo: string, generationPrefix: string, channel: string, ttlSeconds: number): Promise<string[]>;
}

/**
 * Stop for a chat, from any process, in one round trip before the worker hears of
 * it (the one running the active job aborts it and stores the partial answer); jobs
 * still waiting are removed and finalised here.
 */
export class ChatStopper {
  private readonly redis: Redis & StopperCommands;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlSeconds: number,
    private readonly queue: GenerationQueue,
    private readonly finalizer: GenerationFinalizer,
  ) {
    redis.defineCommand('rsCancelChat', { numberOfKeys: 1, lua: CANCEL_CHAT });
    this.redis = redis as Redis & StopperCommands;
  }

  /** Returns the ids of the generations it cancelled. */
  async stop(chatId: string): Promise<string[]> {
    const ids = await this.redis.rsCancelChat(this.keys.chatFifo(chatId), this.keys.generationPrefix, this.keys.cancelChannel, this.ttlSeconds);
    await Promise.all(ids.map((id) => this.settle(chatId, id)));
    return ids;
  }

  private async settle(chatId: string, generationId: string): Promise<void> {
    const job = await this.queue.queue.getJob(generationId);
    if (job) {
      const state = await job.getState();
      if (state === 'active') return;
      if (state !== 'completed' && state !== 'failed') {
        try {
          await job.remove();
        } catch {
          // It became active meanwhile: its worker sees the cancel flag and finalises it.
          return;
        }
      }
    }
    await this.finalizer.finalizeUnrun(chatId, generationId, 'stopped', job?.data.enqueuedAt);
  }
}
