/**
 * Every Redis key and channel name, in one place. A prefix isolates deployments
 * (and tests) sharing one Redis. Every key a chat's answers touch carries the chat's id
 * as its hash tag (`{chatId}`), so that each lifecycle script's keys share one Redis Cluster
 * slot.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /**
   * BullMQ's own key prefix, hash-tagged: BullMQ's scripts touch many keys of a queue at once,
   * which a Redis Cluster allows only within one slot.
   */
  get bullPrefix(): string {
    return `{${this.prefix}:bull}`;
  }
  /** Hash: chatId, attempt, seq, attemptStartSeq, startedAt, done, cancel, announced (lifecycle-scripts.ts). */
  generationMeta(chatId: string, generationId: string): string {
    return `${this.generationPrefix}{${chatId}}:${generationId}:meta`;
  }
  /** What precedes a generation's keys (`{chatId}:generationId:meta|log`), for tools that scan them. */
  get generationPrefix(): string {
    return `${this.prefix}:gen:`;
  }
  /** List of serialized frames; index = seq - 1. */
  generationLog(chatId: string, generationId: string): string {
    return `${this.generationPrefix}{${chatId}}:${generationId}:log`;
  }
  /** List of the chat's unfinished generation ids, oldest first; the head is the one allowed to run. */
  chatFifo(chatId: string): string {
    return `${this.prefix}:chat:{${chatId}}:fifo`;
  }
  /** Hash: nodeId -> "<connections>:<expiresAtMs>". */
  chatPresence(chatId: string): string {
    return `${this.prefix}:chat:{${chatId}}:presence`;
  }
  /** Pub/sub channel carrying a chat's generation frames to the API nodes that hold its clients. */
  chatFrames(chatId: string): string {
    return `${this.prefix}:frames:{${chatId}}`;
  }
  /** The chat whose frames `channel` carries (see chatFrames), or undefined for any other channel. */
  chatOfFrames(channel: string): string | undefined {
    const head = `${this.prefix}:frames:{`;
    return channel.startsWith(head) && channel.endsWith('}') ? channel.slice(head.length, -1) : undefined;
  }
  /** Pub/sub channel telling every worker to abort a job it runs. */
  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }
  /**
   * Sorted set: the leases of a user's (or an organisation's) answers in progress, each
   * generation id scored by the time its lease lapses (answer-leases.ts).
   */
  answersInProgress(scope: LimitScope, id: string): string {
    return `${this.prefix}:leases:${scope}:${id}`;
  }
  /** Hash: nodeId -> "<connections>:<expiresAtMs>", a user's open connections across nodes. */
  userConnections(userId: string): string {
    return `${this.prefix}:connections:user:${userId}`;
  }
  /** Hash: prompt, completion, total tokens of one quota period (`periodStart`: 2025-06-01 or 2025-06), expiring at its end. */
  tokenUsage(scope: LimitScope, period: 'day' | 'month', periodStart: string, id: string): string {
    return `${this.prefix}:usage:${scope}:${period}:${periodStart}:${id}`;
  }
  /** Prefix of a rate limiter's keys (rate-limiter-flexible appends its own key). */
  rateLimit(name: string): string {
    return `${this.prefix}:rate:${name}`;
  }
}

/** Who a limit or quota applies to. */
export type LimitScope = 'user' | 'organisation';
