import type { RedisKeys } from '@ragstream/protocol';
import type { Redis } from 'ioredis';
import type { ChatFifo } from './chat-fifo.ts';
import type { GenerationFinalizer } from './generation-finalizer.ts';
import type { GenerationQueue } from './generation-queue.ts';

/**
 * Stop for a chat, from any process: marks every unfinished generation cancelled
 * and tells all workers in one round trip (the one running the active job aborts
 * it and stores the partial answer); jobs still waiting are removed and finalised here.
 */
export class ChatStopper {
  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlSeconds: number,
    private readonly fifo: ChatFifo,
    private readonly queue: GenerationQueue,
    private readonly finalizer: GenerationFinalizer,
  ) {}

  /** Returns the ids of the generations it cancelled. */
  async stop(chatId: string): Promise<string[]> {
    const ids = await this.fifo.list(chatId);
    if (ids.length === 0) return [];
    const pipeline = this.redis.pipeline();
    for (const id of ids) {
      pipeline.hset(this.keys.generationMeta(id), 'cancel', '1');
      pipeline.expire(this.keys.generationMeta(id), this.ttlSeconds);
      pipeline.publish(this.keys.cancelChannel, id);
    }
    await pipeline.exec();
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
    await this.finalizer.finalizeUnrun(chatId, generationId, 'stopped');
  }
}
