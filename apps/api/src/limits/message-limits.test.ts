import type { QuotaExceeded, TokenQuotas } from '@ragstream/limits';
import { RateLimit } from '@ragstream/limits';
import { describe, expect, it } from 'vitest';
import { ApiError } from '../api-error.ts';
import type { MessageLimitsDeps } from './message-limits.ts';
import { MessageLimits } from './message-limits.ts';

const CALLER = { userId: 'u1', organisationId: 'o1' };
const ANSWER = { answer: true, generationId: 'gen-1' } as const;

/** Leases as the lifecycle keeps them, in memory: `held` answers in progress of the user and of the organisation. */
function leases(held: { user: number; organisation: number }) {
  const released: string[] = [];
  const deps: Pick<MessageLimitsDeps, 'reserve' | 'release'> = {
    reserve: async () => {
      if (held.user >= 2) return { kind: 'refused', scope: 'user', inProgress: held.user, limit: 2 };
      if (held.organisation >= 5) return { kind: 'refused', scope: 'organisation', inProgress: held.organisation, limit: 5 };
      return { kind: 'held' };
    },
    release: async (_caller, generationId) => {
      released.push(generationId);
    },
  };
  return { deps, released };
}

function limits(overrides: Partial<MessageLimitsDeps> & { exceeded?: QuotaExceeded } = {}): MessageLimits {
  const { exceeded, ...rest } = overrides;
  return new MessageLimits({
    messages: RateLimit.local(0, 60, 10),
    quotas: { exceeded: async () => exceeded } as unknown as TokenQuotas,
    answers: { perUser: 2, perOrganisation: 5 },
    ...leases({ user: 0, organisation: 0 }).deps,
    waitingCount: async () => 0,
    maxWaiting: 10,
    ...rest,
  });
}

async function refusal(check: Promise<unknown>): Promise<ApiError> {
  const error = await check.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(error instanceof ApiError)) throw new Error(`expected an ApiError, got ${String(error)}`);
  return error;
}

describe('MessageLimits', () => {
  it('lets a message through under every limit, holding its answer’s lease', async () => {
    await expect(limits().check(CALLER, ANSWER)).resolves.toEqual({ leaseHeld: true });
    await expect(limits({ answers: { perUser: 0, perOrganisation: 0 } }).check(CALLER, ANSWER)).resolves.toEqual({ leaseHeld: false });
  });

  it('holds the node’s writes before it sends the checks, so that they leave together', async () => {
    const order: string[] = [];
    const guard = limits({
      holdWrites: () => order.push('hold'),
      reserve: async () => {
        order.push('reserve');
        return { kind: 'held' };
      },
      waitingCount: async () => {
        order.push('waiting');
        return 0;
      },
    });
    await guard.check(CALLER, ANSWER);
    expect(order).toEqual(['hold', 'reserve', 'waiting']);
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

  it('refuses past a token quota with its reset time, and gives back the lease it took meanwhile', async () => {
    const resetAt = new Date(Date.now() + 3_600_000);
    const { deps, released } = leases({ user: 0, organisation: 0 });
    const error = await refusal(
      limits({ ...deps, exceeded: { scope: 'organisation', period: 'month', used: 10, limit: 10, resetAt } }).check(CALLER, ANSWER),
    );
    expect(error.code).toBe('quota_exceeded');
    expect(error.details.resetAt).toBe(resetAt.toISOString());
    expect(error.retryAfterSeconds()).toBeGreaterThan(3590);
    expect(error.message).toMatch(/organisation’s monthly token quota/);
    expect(released).toEqual(['gen-1']);
  });

  it('refuses past the answers in progress of the user, then of the organisation', async () => {
    expect((await refusal(limits(leases({ user: 2, organisation: 0 }).deps).check(CALLER, ANSWER))).message).toMatch(/^you have 2 answers/);
    expect((await refusal(limits(leases({ user: 0, organisation: 5 }).deps).check(CALLER, ANSWER))).code).toBe('too_many_answers');
  });

  it('answers busy past the queue depth, and applies none of the answer limits to a message that asks for none', async () => {
    const full = limits({ waitingCount: async () => 10, ...leases({ user: 9, organisation: 9 }).deps });
    expect((await refusal(full.check(CALLER, ANSWER))).code).toBe('too_many_answers');
    const busy = limits({ waitingCount: async () => 10 });
    expect((await refusal(busy.check(CALLER, ANSWER))).details.retryAfter).toBe(5);
    await expect(full.check(CALLER, { answer: false })).resolves.toEqual({ leaseHeld: false });
  });
});
