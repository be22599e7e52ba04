import type { QuotaExceeded, TokenQuotas } from '@ragstream/limits';
import { RateLimit } from '@ragstream/limits';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api-error.ts';
import type { MessageLimitsDeps } from './message-limits.ts';
import { MessageLimits } from './message-limits.ts';

const CALLER = { userId: 'u1', organisationId: 'o1' };

function limits(overrides: Partial<MessageLimitsDeps> & { exceeded?: QuotaExceeded } = {}): MessageLimits {
  const { exceeded, ...rest } = overrides;
  return new MessageLimits({
    messages: RateLimit.local(0, 60, 10),
    quotas: { exceeded: async () => exceeded } as unknown as TokenQuotas,
    answers: { perUser: 2, perOrganisation: 5 },
    inProgress: async () => ({ user: 0, organisation: 0 }),
    waitingCount: async () => 0,
    maxWaiting: 10,
    ...rest,
  });
}

async function refusal(check: Promise<void>): Promise<ApiError> {
  const error = await check.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

describe('MessageLimits', () => {
  it('lets a message through under every limit', async () => {
    await expect(limits().check(CALLER, { answer: true })).resolves.toBeUndefined();
  });

  it('refuses past the message rate with retryAfter, and marks a flood far past it abusive', async () => {
    const guard = limits({ messages: RateLimit.local(2, 60, 2) });
    await guard.check(CALLER, { answer: false });
    await guard.check(CALLER, { answer: false });
    const error = await refusal(guard.check(CALLER, { answer: false }));
    expect(error.code).toBe('rate_limited');
    expect(error.options).toMatchObject({ abusive: false, retryAfter: expect.any(Number) });
    await refusal(guard.check(CALLER, { answer: false }));
    expect((await refusal(guard.check(CALLER, { answer: false }))).options.abusive).toBe(true);
  });

  it('refuses past a token quota with its reset time', async () => {
    const resetAt = new Date(Date.now() + 3_600_000);
    const error = await refusal(
      limits({ exceeded: { scope: 'organisation', period: 'month', used: 10, limit: 10, resetAt } }).check(CALLER, { answer: true }),
    );
    expect(error.code).toBe('quota_exceeded');
    expect(error.details.resetAt).toBe(resetAt.toISOString());
    expect(error.retryAfterSeconds()).toBeGreaterThan(3590);
    expect(error.message).toMatch(/organisation’s monthly token quota/);
  });

  it('refuses past the answers in progress of the user, then of the organisation', async () => {
    expect(
      (await refusal(limits({ inProgress: async () => ({ user: 2, organisation: 0 }) }).check(CALLER, { answer: true }))).message,
    ).toMatch(/^you have 2 answers/);
    expect((await refusal(limits({ inProgress: async () => ({ user: 0, organisation: 5 }) }).check(CALLER, { answer: true }))).code).toBe(
      'too_many_answers',
    );
  });

  it('answers busy past the queue depth, and applies none of the answer limits to a message that asks for none', async () => {
    const full = limits({ waitingCount: async () => 10, inProgress: async () => ({ user: 9, organisation: 9 }) });
    expect((await refusal(full.check(CALLER, { answer: true }))).code).toBe('too_many_answers');
    const busy = limits({ waitingCount: async () => 10 });
    expect((await refusal(busy.check(CALLER, { answer: true }))).details.retryAfter).toBe(5);
    await expect(full.check(CALLER, { answer: false })).resolves.toBeUndefined();
  });
});
