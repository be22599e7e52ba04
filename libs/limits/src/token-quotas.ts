import type { LimitScope, RedisKeys } from '@ragstream/protocol';
import type { Cluster, Redis } from 'ioredis';
import type { QuotaPeriod } from './quota-periods.ts';
import { periodWindow, QUOTA_PERIODS } from './quota-periods.ts';

/** Token quotas on prompt + completion tokens; 0 means no quota. */
export interface TokenQuotaLimits {
  userDaily: number;
  userMonthly: number;
  organisationDaily: number;
  organisationMonthly: number;
}

export const NO_TOKEN_QUOTAS: TokenQuotaLimits = { userDaily: 0, userMonthly: 0, organisationDaily: 0, organisationMonthly: 0 };

/** Whose tokens: the user who asked, in the organisation the answer is for. */
export interface QuotaOwner {
  userId: string;
  organisationId: string;
}

export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
}

export interface PeriodCount extends TokenUsage {
  period: QuotaPeriod;
  /** `2025-06-01` or `2025-06`. */
  start: string;
  totalTokens: number;
  /** null: no quota. */
  limit: number | null;
  resetAt: Date;
}

export interface QuotaExceeded {
  scope: LimitScope;
  period: QuotaPeriod;
  used: number;
  limit: number;
  resetAt: Date;
}

const SCOPES: readonly LimitScope[] = ['user', 'organisation'];

/** KEYS: one period's usage hash. ARGV: prompt, completion, the period's end (Unix seconds). */
const ADD_USAGE = `
redis.call('HINCRBY', KEYS[1], 'prompt', ARGV[1])
redis.call('HINCRBY', KEYS[1], 'completion', ARGV[2])
redis.call('HINCRBY', KEYS[1], 'total', ARGV[1] + ARGV[2])
redis.call('EXPIREAT', KEYS[1], ARGV[3])
`;

interface QuotaCommands {
  rsAddUsage(key: string, prompt: number, completion: number, resetAt: number): Promise<unknown>;
}

/**
 * Token counts per user and per organisation, per UTC day and month, in Redis hashes
 * (prompt, completion, total) that expire at their period's end: every API node reads the
 * same counts, and every worker adds to them. A count past its quota refuses the next
 * message until the period ends; the answer that crossed it is not cut short.
 */
export class TokenQuotas {
  private readonly redis: (Redis | Cluster) & QuotaCommands;

  constructor(
    redis: Redis | Cluster,
    private readonly keys: RedisKeys,
    private readonly limits: TokenQuotaLimits = NO_TOKEN_QUOTAS,
    private readonly now: () => Date = () => new Date(),
  ) {
    redis.defineCommand('rsAddUsage', { numberOfKeys: 1, lua: ADD_USAGE });
    this.redis = redis as (Redis | Cluster) & QuotaCommands;
  }

  /**
   * Adds one attempt's tokens to the user's and the organisation's day and month: one small
   * script per count (one key each, so any hash slot), the four sent together (one round trip)
   * rather than as a transaction, which costs far more CPU to build on a connection that
   * carries many scripts.
   */
  async record(owner: QuotaOwner, usage: TokenUsage): Promise<void> {
    const prompt = Math.max(0, Math.round(usage.promptTokens));
    const completion = Math.max(0, Math.round(usage.completionTokens));
    if (prompt + completion === 0) return;
    const now = this.now();
    const writes: Promise<unknown>[] = [];
    for (const scope of SCOPES) {
      for (const period of QUOTA_PERIODS) {
        const window = periodWindow(period, now);
        const key = this.keys.tokenUsage(scope, period, window.start, idOf(owner, scope));
        writes.push(this.redis.rsAddUsage(key, prompt, completion, Math.ceil(window.resetAt.getTime() / 1000)));
      }
    }
    await Promise.all(writes);
  }

  /** The day's and the month's counts of a user or an organisation, with their quotas. */
  async usage(scope: LimitScope, id: string): Promise<Record<QuotaPeriod, PeriodCount>> {
    const now = this.now();
    const counts = await Promise.all(
      QUOTA_PERIODS.map(async (period): Promise<PeriodCount> => {
        const window = periodWindow(period, now);
        const [prompt, completion, total] = await this.redis.hmget(
          this.keys.tokenUsage(scope, period, window.start, id),
          'prompt',
          'completion',
          'total',
        );
        const limit = this.limitOf(scope, period);
        return {
          period,
          start: window.start,
          promptTokens: Number(prompt ?? 0),
          completionTokens: Number(completion ?? 0),
          totalTokens: Number(total ?? 0),
          limit: limit > 0 ? limit : null,
          resetAt: window.resetAt,
        };
      }),
    );
    const [day, month] = counts as [PeriodCount, PeriodCount];
    return { day, month };
  }

  /**
   * The quota that refuses the owner's next message, if any: of several used up, the one
   * that resets last, since nothing passes before it does.
   */
  async exceeded(owner: QuotaOwner): Promise<QuotaExceeded | undefined> {
    const now = this.now();
    const checks = SCOPES.flatMap((scope) =>
      QUOTA_PERIODS.map((period) => ({ scope, period, limit: this.limitOf(scope, period), window: periodWindow(period, now) })),
    ).filter((check) => check.limit > 0);
    if (checks.length === 0) return undefined;
    const totals = await Promise.all(
      checks.map(({ scope, period, window }) =>
        this.redis.hget(this.keys.tokenUsage(scope, period, window.start, idOf(owner, scope)), 'total'),
      ),
    );
    let worst: QuotaExceeded | undefined;
    checks.forEach(({ scope, period, limit, window }, i) => {
      const used = Number(totals[i] ?? 0);
      if (used < limit) return;
      if (!worst || window.resetAt > worst.resetAt) worst = { scope, period, used, limit, resetAt: window.resetAt };
    });
    return worst;
  }

  private limitOf(scope: LimitScope, period: QuotaPeriod): number {
    const { limits } = this;
    if (scope === 'user') return period === 'day' ? limits.userDaily : limits.userMonthly;
    return period === 'day' ? limits.organisationDaily : limits.organisationMonthly;
  }
}

function idOf(owner: QuotaOwner, scope: LimitScope): string {
  return scope === 'user' ? owner.userId : owner.organisationId;
}
