import type { Cluster, Redis } from 'ioredis';
import type { RateLimiterAbstract } from 'rate-limiter-flexible';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export type RateDecision =
  | { allowed: true }
  | {
      allowed: false;
      /** Whole seconds until the window ends and the key may act again (at least 1). */
      retryAfterSeconds: number;
      /** What the key tried in this window, the refused tries included. */
      consumed: number;
      limit: number;
      /** Far past the limit (more than `abuseFactor` times it): the caller closes the connection. */
      abusive: boolean;
    };

/**
 * A fixed-window rate limit, `points` per `durationSeconds` per key, through
 * rate-limiter-flexible: `shared` keeps the windows in Redis, so that every API node counts
 * against the same limit; `local` keeps them in this process, for keys that live on one node
 * (a connection). `points` 0 means no limit. A refused try still counts, so that a client
 * that keeps going past the limit is seen as abusive.
 */
export class RateLimit {
  private constructor(
    private readonly limiter: RateLimiterAbstract | undefined,
    readonly points: number,
    private readonly abuseFactor: number,
  ) {}

  static shared(redis: Redis | Cluster, keyPrefix: string, points: number, durationSeconds: number, abuseFactor: number): RateLimit {
    const limiter = points > 0 ? new RateLimiterRedis({ storeClient: redis, keyPrefix, points, duration: durationSeconds }) : undefined;
    return new RateLimit(limiter, points, abuseFactor);
  }

  static local(points: number, durationSeconds: number, abuseFactor: number): RateLimit {
    const limiter = points > 0 ? new RateLimiterMemory({ points, duration: durationSeconds }) : undefined;
    return new RateLimit(limiter, points, abuseFactor);
  }

  /** Counts one try of `key`; rejects only when the store fails (Redis down). */
  async take(key: string): Promise<RateDecision> {
    if (!this.limiter) return { allowed: true };
    try {
      await this.limiter.consume(key);
      return { allowed: true };
    } catch (rejection) {
      if (!(rejection instanceof RateLimiterRes)) throw rejection;
      return {
        allowed: false,
        retryAfterSeconds: Math.max(1, Math.ceil(rejection.msBeforeNext / 1000)),
        consumed: rejection.consumedPoints,
        limit: this.points,
        abusive: this.abuseFactor > 0 && rejection.consumedPoints > this.points * this.abuseFactor,
      };
    }
  }
}
