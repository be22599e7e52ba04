import type { RedisKeys } from '@ragstream/protocol';
import type { Redis } from 'ioredis';
import type { RealtimeLogger } from './realtime-logger.ts';

/** A node's entry outlives a missed heartbeat or two, and no more: a crashed node stops counting soon. */
const ENTRY_TTL_MS = 15_000;
const HEARTBEAT_MS = 5_000;

/**
 * Live client connections per chat, across nodes and transports: each node keeps
 * its own count in a per-chat hash field with an expiry that it refreshes.
 */
export class Presence {
  private readonly counts = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: RedisKeys,
    private readonly nodeId: string,
    private readonly logger: RealtimeLogger,
  ) {}

  start(): void {
    // A missed beat is retried by the next one; the entries outlive two missed beats.
    this.heartbeat = setInterval(() => {
      this.refreshAll().catch((err: unknown) => this.logger.warn('presence heartbeat failed', { nodeId: this.nodeId, err }));
    }, HEARTBEAT_MS);
    this.heartbeat.unref();
  }

  async connected(chatId: string): Promise<void> {
    const count = (this.counts.get(chatId) ?? 0) + 1;
    this.counts.set(chatId, count);
    await this.write(chatId, count);
  }

  async disconnected(chatId: string): Promise<void> {
    const count = (this.counts.get(chatId) ?? 1) - 1;
    if (count > 0) {
      this.counts.set(chatId, count);
      await this.write(chatId, count);
      return;
    }
    this.counts.delete(chatId);
    await this.redis.hdel(this.keys.chatPresence(chatId), this.nodeId);
  }

  /** Removes this node's entries (shutdown). */
  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    const pipeline = this.redis.pipeline();
    for (const chatId of this.counts.keys()) pipeline.hdel(this.keys.chatPresence(chatId), this.nodeId);
    this.counts.clear();
    await pipeline.exec();
  }

  private async write(chatId: string, count: number): Promise<void> {
    const key = this.keys.chatPresence(chatId);
    await this.redis
      .pipeline()
      .hset(key, this.nodeId, `${count}:${Date.now() + ENTRY_TTL_MS}`)
      .pexpire(key, ENTRY_TTL_MS * 2)
      .exec();
  }

  private async refreshAll(): Promise<void> {
    if (this.counts.size === 0) return;
    const pipeline = this.redis.pipeline();
    const expiresAt = Date.now() + ENTRY_TTL_MS;
    for (const [chatId, count] of this.counts) {
      const key = this.keys.chatPresence(chatId);
      pipeline.hset(key, this.nodeId, `${count}:${expiresAt}`).pexpire(key, ENTRY_TTL_MS * 2);
    }
    await pipeline.exec();
  }
}

/** Connections to a chat across all nodes, ignoring entries of nodes that stopped refreshing. */
export async function countConnections(redis: Redis, keys: RedisKeys, chatId: string): Promise<number> {
  const entries = await redis.hgetall(keys.chatPresence(chatId));
  const now = Date.now();
  let total = 0;
  for (const value of Object.values(entries)) {
    const [count, expiresAt] = value.split(':').map(Number);
    if (count !== undefined && expiresAt !== undefined && expiresAt > now) total += count;
  }
  return total;
}
