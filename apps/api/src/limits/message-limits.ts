import type { AnswerLimits, AnswersInProgress } from '@ragstream/lifecycle';
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
  /** Answers in progress of a user and an organisation, as the lifecycle counts them. */
  inProgress(caller: Caller): Promise<AnswersInProgress>;
  /** Generation jobs waiting for a worker. */
  waitingCount(): Promise<number>;
  /** Past this many waiting jobs a new message gets `busy`; 0: no limit. */
  maxWaiting: number;
}

/**
 * What a user message must pass before anything of it is stored: the user's message rate,
 * and, when it asks for an answer, the token quotas, the answers in progress (the lifecycle
 * checks them again, atomically, when it admits the answer) and the generation queue's depth.
 * A refusal is an ApiError with `retryAfter` or `resetAt`.
 */
export class MessageLimits {
  constructor(private readonly deps: MessageLimitsDeps) {}

  get answers(): AnswerLimits {
    return this.deps.answers;
  }

  async check(caller: Caller, options: { answer: boolean }): Promise<void> {
    const { deps } = this;
    // Read together: one round trip for all of them.
    const [rate, quota, inProgress, waiting] = await Promise.all([
      deps.messages.take(caller.userId),
      options.answer ? deps.quotas.exceeded(caller) : undefined,
      options.answer && (deps.answers.perUser > 0 || deps.answers.perOrganisation > 0) ? deps.inProgress(caller) : undefined,
      options.answer && deps.maxWaiting > 0 ? deps.waitingCount() : 0,
    ]);
    if (!rate.allowed) throw messageRateLimited(rate);
    if (quota) throw quotaExceeded(quota);
    if (inProgress) {
      const { perUser, perOrganisation } = deps.answers;
      if (perUser > 0 && inProgress.user >= perUser) throw tooManyAnswers('user', perUser);
      if (perOrganisation > 0 && inProgress.organisation >= perOrganisation) throw tooManyAnswers('organisation', perOrganisation);
    }
    if (deps.maxWaiting > 0 && waiting >= deps.maxWaiting) {
      throw new ApiError('busy', `the answer queue is full (${waiting} waiting); try again shortly`, {
        retryAfter: ANSWER_RETRY_AFTER_SECONDS,
      });
    }
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
