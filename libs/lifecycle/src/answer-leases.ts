import type { LimitScope, RedisKeys } from '@ragstream/protocol';
import type { RedisClient } from '@ragstream/realtime';

/** Answers in progress allowed at once; 0 means no limit. */
export interface AnswerLimits {
  perUser: number;
  perOrganisation: number;
}

export const NO_ANSWER_LIMITS: AnswerLimits = { perUser: 0, perOrganisation: 0 };

/** Answers admitted and not finished, for one user and that user's organisation. */
export interface AnswersInProgress {
  user: number;
  organisation: number;
}

/** Whose answer it is: the user and the user's organisation. */
export interface AnswerOwner {
  userId: string;
  organisationId: string;
}

export type Reservation = { kind: 'held' } | { kind: 'refused'; scope: LimitScope; inProgress: number; limit: number };

/*
 * A lease is a member of a sorted set scored by the time it lapses (Redis's own clock, so
 * that no node's clock matters). Each script touches one set, one key, so that a user's and
 * an organisation's sets may live in different Redis Cluster slots.
 */

/** KEYS: set. ARGV: id, lease ms, limit (0: none). Returns {1, count} held (or held before), {0, count} refused. */
const RESERVE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
local count = redis.call('ZCARD', KEYS[1])
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  local limit = tonumber(ARGV[3])
  if limit > 0 and count >= limit then return {0, count} end
  count = count + 1
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return {1, count}
`;

/** KEYS: set. Returns the leases not lapsed. */
const COUNT = `
local t = redis.call('TIME')
return redis.call('ZCOUNT', KEYS[1], tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + 1, '+inf')
`;

interface LeaseCommands {
  rsLeaseReserve(set: string, id: string, leaseMs: number, limit: number): Promise<[number, number]>;
  rsLeaseCount(set: string): Promise<number>;
}

/**
 * The answers in progress of each user and organisation, which the answer limits count: a
 * lease per admitted answer, taken when the lifecycle admits it and given back when it
 * completes, on every ending. A lease lapses by itself after the generation's TTL, so that
 * an answer whose processes all died stops counting, and no crash can leak a slot. Taking
 * checks and counts in one script per set; counting costs O(log n), whatever the load.
 */
export class AnswerLeases {
  private readonly redis: RedisClient & LeaseCommands;
  private readonly leaseMs: number;

  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    ttlSeconds: number,
  ) {
    redis.defineCommand('rsLeaseReserve', { numberOfKeys: 1, lua: RESERVE });
    redis.defineCommand('rsLeaseCount', { numberOfKeys: 1, lua: COUNT });
    this.redis = redis as RedisClient & LeaseCommands;
    this.leaseMs = ttlSeconds * 1000;
  }

  /**
   * Takes the answer's lease in its user's and its organisation's sets, under their limits,
   * in one round trip; refused, it holds none. Taking one held before (a resend) always passes.
   */
  async reserve(owner: AnswerOwner, generationId: string, limits: AnswerLimits): Promise<Reservation> {
    const [userSet, organisationSet] = this.sets(owner);
    // Sent together, so one round trip; not a pipeline, which costs far more CPU to build on a
    // connection that carries many scripts (BullMQ's).
    const [user, organisation] = await Promise.all([
      this.redis.rsLeaseReserve(userSet, generationId, this.leaseMs, limits.perUser),
      this.redis.rsLeaseReserve(organisationSet, generationId, this.leaseMs, limits.perOrganisation),
    ]);
    if (user[0] === 1 && organisation[0] === 1) return { kind: 'held' };
    // Refused by one: the other's lease goes back, so that nothing of it counts.
    await this.release(owner, generationId);
    return user[0] === 1
      ? { kind: 'refused', scope: 'organisation', inProgress: organisation[1], limit: limits.perOrganisation }
      : { kind: 'refused', scope: 'user', inProgress: user[1], limit: limits.perUser };
  }

  /** Gives the answer's leases back (harmless when it holds none). */
  async release(owner: AnswerOwner, generationId: string): Promise<void> {
    const [userSet, organisationSet] = this.sets(owner);
    await Promise.all([this.redis.zrem(userSet, generationId), this.redis.zrem(organisationSet, generationId)]);
  }

  /** The answers in progress of a user and of an organisation; 0 for the one not asked about. */
  async count(owner: Partial<AnswerOwner>): Promise<AnswersInProgress> {
    const [user, organisation] = await Promise.all([
      owner.userId === undefined ? 0 : this.redis.rsLeaseCount(this.keys.answersInProgress('user', owner.userId)),
      owner.organisationId === undefined ? 0 : this.redis.rsLeaseCount(this.keys.answersInProgress('organisation', owner.organisationId)),
    ]);
    return { user: Number(user), organisation: Number(organisation) };
  }

  private sets(owner: AnswerOwner): [string, string] {
    return [this.keys.answersInProgress('user', owner.userId), this.keys.answersInProgress('organisation', owner.organisationId)];
  }
}
