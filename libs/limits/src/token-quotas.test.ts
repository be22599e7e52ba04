import { randomUUID } from 'node:crypto';
import { RedisKeys } from '@ragstream/protocol';
import { deleteKeysWithPrefix, TEST_REDIS_URL } from '@ragstream/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TokenQuotas } from './token-quotas.ts';

/** A date next year: keys expire at their period's end, so the test's clock must not be in the past. */
function at(isoWithoutYear: string): Date {
  return new Date(`${new Date().getUTCFullYear() + 1}-${isoWithoutYear}`);
}

describe('TokenQuotas on real Redis', () => {
  const Y = new Date().getUTCFullYear() + 1;
  const keys = new RedisKeys(`rstest-${randomUUID().slice(0, 8)}`);
  let redis: Redis;
  let clock = at('06-30T22:00:00Z');
  const now = (): Date => clock;
  const limits = { userDaily: 100, userMonthly: 250, organisationDaily: 1000, organisationMonthly: 0 };

  beforeAll(() => {
    redis = new Redis(TEST_REDIS_URL);
  });
  afterAll(async () => {
    redis.disconnect();
    await deleteKeysWithPrefix(keys.prefix);
  });

  it('counts tokens per user and organisation, per day and month, with keys that expire at the period end', async () => {
    const quotas = new TokenQuotas(redis, keys, limits, now);
    const owner = { userId: `u-${randomUUID()}`, organisationId: `o-${randomUUID()}` };
    await quotas.record(owner, { promptTokens: 30, completionTokens: 12 });
    await quotas.record(owner, { promptTokens: 5, completionTokens: 3 });
    const user = await quotas.usage('user', owner.userId);
    expect(user.day).toEqual({
      period: 'day',
      start: `${Y}-06-30`,
      promptTokens: 35,
      completionTokens: 15,
      totalTokens: 50,
      limit: 100,
      resetAt: at('07-01T00:00:00Z'),
    });
    expect(user.month).toMatchObject({ start: `${Y}-06`, totalTokens: 50, limit: 250 });
    const organisation = await quotas.usage('organisation', owner.organisationId);
    expect(organisation.day).toMatchObject({ totalTokens: 50, limit: 1000 });
    expect(organisation.month).toMatchObject({ totalTokens: 50, limit: null });
    const dayKey = keys.tokenUsage('user', 'day', `${Y}-06-30`, owner.userId);
    expect(await redis.expiretime(dayKey)).toBe(at('07-01T00:00:00Z').getTime() / 1000);
    expect(await redis.expiretime(keys.tokenUsage('organisation', 'month', `${Y}-06`, owner.organisationId))).toBe(
      at('07-01T00:00:00Z').getTime() / 1000,
    );
  });

  it('refuses once a quota is used up, naming the one that resets last; a new period starts from 0', async () => {
    clock = at('06-10T10:00:00Z');
    const quotas = new TokenQuotas(redis, keys, limits, now);
    const owner = { userId: `u-${randomUUID()}`, organisationId: `o-${randomUUID()}` };
    await quotas.record(owner, { promptTokens: 60, completionTokens: 39 });
    expect(await quotas.exceeded(owner)).toBeUndefined();
    await quotas.record(owner, { promptTokens: 0, completionTokens: 1 });
    expect(await quotas.exceeded(owner)).toEqual({
      scope: 'user',
      period: 'day',
      used: 100,
      limit: 100,
      resetAt: at('06-11T00:00:00Z'),
    });
    clock = at('06-11T00:00:01Z');
    expect(await quotas.exceeded(owner)).toBeUndefined();
    await quotas.record(owner, { promptTokens: 100, completionTokens: 50 });
    // Both the day (150 of 100) and the month (250 of 250) are used up: the month resets last.
    expect(await quotas.exceeded(owner)).toMatchObject({
      scope: 'user',
      period: 'month',
      used: 250,
      resetAt: at('07-01T00:00:00Z'),
    });
  });

  it('counts an organisation across its users, and records nothing for an empty usage', async () => {
    clock = at('06-10T10:00:00Z');
    const quotas = new TokenQuotas(redis, keys, { ...limits, userDaily: 0, userMonthly: 0, organisationDaily: 10 }, now);
    const organisationId = `o-${randomUUID()}`;
    await quotas.record({ userId: 'a', organisationId }, { promptTokens: 4, completionTokens: 2 });
    await quotas.record({ userId: 'b', organisationId }, { promptTokens: 0, completionTokens: 0 });
    expect(await quotas.exceeded({ userId: 'b', organisationId })).toBeUndefined();
    await quotas.record({ userId: 'b', organisationId }, { promptTokens: 3, completionTokens: 1 });
    expect(await quotas.exceeded({ userId: 'c', organisationId })).toMatchObject({ scope: 'organisation', period: 'day', used: 10 });
    expect(await quotas.exceeded({ userId: 'c', organisationId: 'elsewhere' })).toBeUndefined();
  });
});
