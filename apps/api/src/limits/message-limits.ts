import type { AnswerLimits, Reservation } from '@ragstream/lifecycle';
import type { QuotaExceeded, RateDecision, RateLimit, TokenQuotas } from '@ragstream/limits';
import { ApiError } from '../api-error.ts';
import type { Caller } from './caller.ts';

/** When a client refused for the answers in progress or a full queue may try again: answers take seconds. */
export const ANSWER_RETRY_AFTER_SECONDS = 5;

export interface MessageLimitsDeps {
  /** Messages per minute per user, shared by every node. */
  messages: RateLimit;
  quotas: TokenQuotas;
  answers: AnswerLimits;
  /** Takes the lease of the answer to the message about to be stored, under `answers` (the lifecycle's). */
  reserve(caller: Caller, generationId: string): Promise<Reservation>;
  /** Gives back a lease `reserve` took. */
  release(caller: Caller, generationId: string): Promise<void>;
  /** Generation jobs waiting for a worker. */
  waitingCount(): Promise<number>;
  /** Past this many waiting jobs a new message gets `busy`; 0: no limit. */
  maxWaiting: number;
  /** Lets the commands a check issues at once leave the node in one write (CoalescedWrites). */
  holdWrites?(): void;
}

/**
 * What a user message must pass before anything of it is stored: the user's message rate,
 * and, when it asks for an answer, the token quotas, the answers in progress (by taking the
 * answer's lease, atomically under the limits) and the generation queue's depth.
 * A refusal is an ApiError with `retryAfter` or `resetAt`.
 */
export class MessageLimits {
  constructor(private readonly deps: MessageLimitsDeps) {}

  get answers(): AnswerLimits {
    return this.deps.answers;
  }

  /**
   * Refuses with an ApiError, or lets the message through. For a message that asks for an
   * answer (`generationId`: the one it will get) under answer limits, the answer's lease is
   * taken here rather than counted, in the same round trip; the result says whether it is held.
   * A refusal holds none.
   */
  async check(caller: Caller, options: { answer: false } | { answer: true; generationId: string }): Promise<{ leaseHeld: boolean }> {
    const { deps } = this;
    const limited = options.answer && (deps.answers.perUser > 0 || deps.answers.perOrganisation > 0);
    // Sent together: one round trip, and one write, for all of them.
    deps.holdWrites?.();
    const [rate, quota, lease, waiting] = await Promise.all([
      deps.messages.take(caller.userId),
      options.answer ? deps.quotas.exceeded(caller) : undefined,
      limited ? deps.reserve(caller, options.generationId) : undefined,
      options.answer && deps.maxWaiting > 0 ? deps.waitingCount() : 0,
    ]);
    const refusal = this.refusal(rate, quota, lease, waiting);
    if (refusal) {
      if (lease?.kind === 'held' && options.answer) await deps.release(caller, options.generationId);
      throw refusal;
    }
    return { leaseHeld: lease?.kind === 'held' };
  }

  /** Gives back a lease `check` took, for an answer that will not be admitted. */
  release(caller: Caller, generationId: string): Promise<void> {
    return this.deps.release(caller, generationId);
  }

  private refusal(
    rate: RateDecision,
    quota: QuotaExceeded | undefined,
    lease: Reservation | undefined,
    waiting: number,
  ): ApiError | undefined {
    if (!rate.allowed) return messageRateLimited(rate);
    if (quota) return quotaExceeded(quota);
    if (lease?.kind === 'refused') return tooManyAnswers(lease.scope, lease.limit);
    if (this.deps.maxWaiting > 0 && waiting >= this.deps.maxWaiting) {
      return new ApiError('busy', `the answer queue is full (${waiting} waiting); try again shortly`, {
        retryAfter: ANSWER_RETRY_AFTER_SECONDS,
      });
    }
    return undefined;
  }
}

export function tooManyAnswers(scope: 'user' | 'organisation', limit: number): ApiError {
  const whose = scope === 'user' ? 'you have' : 'your organisation has';
  return new ApiError('too_many_answers', `${whose} ${limit} answers in progress, the most allowed; wait for one to end`, {
    retryAfter: ANSWER_RETRY_AFTER_SECONDS,
  });
}

function messageRateLimited(rate: Extract<RateDecision, { allowed: false }>): ApiError {
  return new ApiError('rate_limited', `too many messages: the limit is ${rate.limit} per minute`, {
    retryAfter: rate.retryAfterSeconds,
    abusive: rate.abusive,
  });
}

function quotaExceeded(quota: QuotaExceeded): ApiError {
  const whose = quota.scope === 'user' ? 'your' : 'your organisation’s';
  const period = quota.period === 'day' ? 'daily' : 'monthly';
  const resetAt = quota.resetAt.toISOString();
  return new ApiError('quota_exceeded', `${whose} ${period} token quota (${quota.limit}) is used up; it resets at ${resetAt}`, {
    resetAt,
    retryAfter: Math.max(0, Math.ceil((quota.resetAt.getTime() - Date.now()) / 1000)),
  });
}
