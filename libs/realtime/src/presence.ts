import type { RedisKeys } from '@ragstream/protocol';
import { CoalescedWrites } from './coalesced-writes.ts';
import type { RealtimeLogger } from './realtime-logger.ts';
import type { RedisClient } from './redis-connection.ts';

/** A node's entry outlives a missed heartbeat or two, and no more: a crashed node stops counting soon. */
export const PRESENCE_ENTRY_TTL_MS = 15_000;
const ENTRY_TTL_MS = PRESENCE_ENTRY_TTL_MS;
const HEARTBEAT_MS = 5_000;

/**
 * KEYS: the hash. ARGV: nodeId, this node's count with the new connection, its expiry, now, limit, key TTL.
 * Writes this node's count unless every node's live entries together would pass the limit; 1 when written.
 */
const CONNECT_WITHIN = `
local total = tonumber(ARGV[2])
local now = tonumber(ARGV[4])
local entries = redis.call('HGETALL', KEYS[1])
for i = 1, #entries, 2 do
  if entries[i] ~= ARGV[1] then
    local sep = string.find(entries[i + 1], ':', 1, true)
    if sep and tonumber(string.sub(entries[i + 1], sep + 1)) > now then
      total = total + tonumber(string.sub(entries[i + 1], 1, sep - 1))
    end
  end
end
if total > tonumber(ARGV[5]) then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2] .. ':' .. ARGV[3])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
return 1
`;

interface PresenceCommands {
  rsConnectWithin(key: string, ...args: (string | number)[]): Promise<number>;
}

/**
 * Live client connections per chat (or per any id: `keyOf` names its hash, e.g. a user's),
 * across nodes and transports: each node keeps its own count in a hash field with an expiry
 * that it refreshes.
 */
export class Presence {
  private readonly counts = new Map<string, number>();
  private heartbeat: NodeJS.Timeout | undefined;
  private readonly keyOf: (id: string) => string;
  private commands: (RedisClient & PresenceCommands) | undefined;
  private readonly writes: CoalescedWrites;

  constructor(
    private readonly redis: RedisClient,
    keys: RedisKeys,
    private readonly nodeId: string,
    private readonly logger: RealtimeLogger,
    keyOf?: (id: string) => string,
  ) {
    this.keyOf = keyOf ?? ((chatId) => keys.chatPresence(chatId));
    this.writes = new CoalescedWrites(redis);
  }

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

  /**
   * Counts one more connection of `id` unless all nodes together already hold `limit` of them
   * (checked and written in one script, so that two nodes cannot both take the last one).
   * false: refused, nothing counted. `limit` 0 is no limit.
   */
  async connectedWithin(id: string, limit: number): Promise<boolean> {
    if (limit <= 0) {
      await this.connected(id);
      return true;
    }
    const count = (this.counts.get(id) ?? 0) + 1;
    // Taken locally first, so that concurrent connections of one id on this node count each other.
    this.counts.set(id, count);
    if (!this.commands) {
      this.redis.defineCommand('rsConnectWithin', { numberOfKeys: 1, lua: CONNECT_WITHIN });
      this.commands = this.redis as RedisClient & PresenceCommands;
    }
    const now = Date.now();
    let written: number;
    try {
      written = await this.commands.rsConnectWithin(this.keyOf(id), this.nodeId, count, now + ENTRY_TTL_MS, now, limit, ENTRY_TTL_MS * 2);
    } catch (err) {
      // Not counted after all; the next heartbeat writes this node's true count.
      this.forget(id);
      throw err;
    }
    if (written === 1) return true;
    await this.disconnected(id);
    return false;
  }

  private forget(id: string): void {
    const count = (this.counts.get(id) ?? 1) - 1;
    if (count > 0) this.counts.set(id, count);
    else this.counts.delete(id);
  }

  async disconnected(chatId: string): Promise<void> {
    const count = (this.counts.get(chatId) ?? 1) - 1;
    if (count > 0) {
      this.counts.set(chatId, count);
      await this.write(chatId, count);
      return;
    }
    this.counts.delete(chatId);
    await this.redis.hdel(this.keyOf(chatId), this.nodeId);
  }

  /** Removes this node's entries (shutdown). */
  async stop(): Promise<void> {
    if (this.heartbeat) clearInterval(this.heartbeat);
    const ids = [...this.counts.keys()];
    this.counts.clear();
    // One command per key, not a pipeline: a Cluster refuses a pipeline whose keys live on several
    // nodes. Held, they still leave in one write per node.
    this.writes.hold();
    await Promise.all(ids.map((id) => this.redis.hdel(this.keyOf(id), this.nodeId)));
  }

  private async write(chatId: string, count: number): Promise<void> {
    const key = this.keyOf(chatId);
    // Two commands rather than a pipeline: they share the round trip and the write all the same,
    // and a pipeline on a connection that carries many scripts (BullMQ's) costs far more CPU to build.
    this.writes.hold();
    await Promise.all([
      this.redis.hset(key, this.nodeId, `${count}:${Date.now() + ENTRY_TTL_MS}`),
      this.redis.pexpire(key, ENTRY_TTL_MS * 2),
    ]);
  }

  private async refreshAll(): Promise<void> {
    if (this.counts.size === 0) return;
    const expiresAt = Date.now() + ENTRY_TTL_MS;
    // Separate commands, as in `stop`; they still share the round trip and the write.
    this.writes.hold();
    await Promise.all(
      [...this.counts].flatMap(([id, count]) => {
        const key = this.keyOf(id);
        return [this.redis.hset(key, this.nodeId, `${count}:${expiresAt}`), this.redis.pexpire(key, ENTRY_TTL_MS * 2)];
      }),
    );
  }
}

/** Connections to a chat across all nodes, ignoring entries of nodes that stopped refreshing. */
export async function countConnections(redis: RedisClient, keys: RedisKeys, chatId: string): Promise<number> {
  const entries = await redis.hgetall(keys.chatPresence(chatId));
  const now = Date.now();
  let total = 0;
  for (const value of Object.values(entries)) {
    const [count, expiresAt] = value.split(':').map(Number);
    if (count !== undefined && expiresAt !== undefined && expiresAt > now) total += count;
  }
  return total;
}
