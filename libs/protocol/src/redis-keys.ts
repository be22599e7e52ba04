/**
 * Every Redis key and channel name, in one place. A prefix isolates deployments
 * (and tests) sharing one Redis.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** BullMQ's own key prefix. */
  get bullPrefix(): string {
    return `${this.prefix}:bull`;
  }
  /** Hash: chatId, attempt, seq, attemptStartSeq, startedAt, done, cancel. */
  generationMeta(generationId: string): string {
    return `${this.generationPrefix}${generationId}:meta`;
  }
  /** What precedes a generation id in its keys (for Lua scripts that derive them). */
  get generationPrefix(): string {
    return `${this.prefix}:gen:`;
  }
  /** List of serialized frames; index = seq - 1. */
  generationLog(generationId: string): string {
    return `${this.prefix}:gen:${generationId}:log`;
  }
  /** List of the chat's unfinished generation ids, oldest first; the head is the one allowed to run. */
  chatFifo(chatId: string): string {
    return `${this.prefix}:chat:${chatId}:fifo`;
  }
  /** Hash: nodeId -> "<connections>:<expiresAtMs>". */
  chatPresence(chatId: string): string {
    return `${this.prefix}:chat:${chatId}:presence`;
  }
  /** Pub/sub channel carrying a chat's generation frames to the API nodes that hold its clients. */
  chatFrames(chatId: string): string {
    return `${this.prefix}:frames:${chatId}`;
  }
  /** Pub/sub channel telling every worker to abort a job it runs. */
  get cancelChannel(): string {
    return `${this.prefix}:cancel`;
  }
}
