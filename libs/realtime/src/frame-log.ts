import type { GenerationFrame, RedisKeys, UnsequencedFrame } from '@ragstream/protocol';
import { generationFrameSchema } from '@ragstream/protocol';
import type { Redis } from 'ioredis';

/*
 * A generation's frames live in a Redis list (index = seq - 1) beside a meta hash.
 * Both are written only by these scripts, which number frames atomically and
 * publish them in the same step, so the log and the live stream never disagree.
 * Appends are fenced by attempt: a worker that lost its job cannot write over the
 * attempt that replaced it.
 */

const APPEND = `
local meta = KEYS[1]
if redis.call('HGET', meta, 'done') == '1' then return -1 end
if ARGV[2] ~= '*' and redis.call('HGET', meta, 'attempt') ~= ARGV[2] then return -2 end
local seq = 0
for i = 5, #ARGV do
  seq = redis.call('HINCRBY', meta, 'seq', 1)
  local frame = '{"seq":' .. seq .. ',' .. string.sub(ARGV[i], 2)
  redis.call('RPUSH', KEYS[2], frame)
  redis.call('PUBLISH', ARGV[1], frame)
end
if ARGV[3] == '1' then redis.call('HSET', meta, 'done', '1') end
redis.call('EXPIRE', meta, ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return seq
`;

const START_ATTEMPT = `
local meta = KEYS[1]
if redis.call('HGET', meta, 'done') == '1' then return {0, 0, 0} end
redis.call('HSET', meta, 'chatId', ARGV[1])
redis.call('HSETNX', meta, 'startedAt', ARGV[2])
local startedAt = tonumber(redis.call('HGET', meta, 'startedAt'))
redis.call('EXPIRE', meta, ARGV[3])
if redis.call('HGET', meta, 'cancel') == '1' then return {-1, 0, startedAt} end
local attempt = redis.call('HINCRBY', meta, 'attempt', 1)
local seq = tonumber(redis.call('HGET', meta, 'seq') or '0')
redis.call('HSET', meta, 'attemptStartSeq', seq + 1)
return {attempt, seq, startedAt}
`;

interface FrameLogCommands {
  rsAppendFrames(meta: string, log: string, ...args: (string | number)[]): Promise<number>;
  rsStartAttempt(meta: string, ...args: (string | number)[]): Promise<[number, number, number]>;
}

export type AppendResult = { ok: true; lastSeq: number } | { ok: false; reason: 'done' | 'fenced' };

export type AttemptStart =
  | { kind: 'started'; attempt: number; seq: number; startedAt: number }
  | { kind: 'cancelled'; startedAt: number }
  | { kind: 'done' };

export interface GenerationMeta {
  chatId: string | undefined;
  attempt: number;
  seq: number;
  attemptStartSeq: number;
  startedAt: number | undefined;
  done: boolean;
  cancel: boolean;
}

export class FrameLog {
  private readonly redis: Redis & FrameLogCommands;

  constructor(
    redis: Redis,
    private readonly keys: RedisKeys,
    private readonly ttlSeconds: number,
  ) {
    redis.defineCommand('rsAppendFrames', { numberOfKeys: 2, lua: APPEND });
    redis.defineCommand('rsStartAttempt', { numberOfKeys: 1, lua: START_ATTEMPT });
    this.redis = redis as Redis & FrameLogCommands;
  }

  async startAttempt(generationId: string, chatId: string): Promise<AttemptStart> {
    const [attempt, seq, startedAt] = await this.redis.rsStartAttempt(
      this.keys.generationMeta(generationId),
      chatId,
      Date.now(),
      this.ttlSeconds,
    );
    if (attempt === 0) return { kind: 'done' };
    if (attempt === -1) return { kind: 'cancelled', startedAt };
    return { kind: 'started', attempt, seq, startedAt };
  }

  /**
   * Numbers and publishes frames. `attempt` '*' skips fencing: only for whoever
   * finalises a generation that no worker runs (a removed waiting job).
   */
  async append(
    chatId: string,
    generationId: string,
    attempt: number | '*',
    frames: UnsequencedFrame[],
    terminal: boolean,
  ): Promise<AppendResult> {
    const bodies = frames.map((frame) => JSON.stringify(frame));
    const result = await this.redis.rsAppendFrames(
      this.keys.generationMeta(generationId),
      this.keys.generationLog(generationId),
      this.keys.chatFrames(chatId),
      String(attempt),
      terminal ? '1' : '0',
      this.ttlSeconds,
      ...bodies,
    );
    if (result === -1) return { ok: false, reason: 'done' };
    if (result === -2) return { ok: false, reason: 'fenced' };
    return { ok: true, lastSeq: result };
  }

  /** Frames with seq > afterSeq, in order. */
  async readAfter(generationId: string, afterSeq: number): Promise<GenerationFrame[]> {
    const raw = await this.redis.lrange(this.keys.generationLog(generationId), Math.max(0, afterSeq), -1);
    return raw.map((line) => generationFrameSchema.parse(JSON.parse(line)));
  }

  async meta(generationId: string): Promise<GenerationMeta | undefined> {
    const hash = await this.redis.hgetall(this.keys.generationMeta(generationId));
    if (Object.keys(hash).length === 0) return undefined;
    return {
      chatId: hash.chatId,
      attempt: Number(hash.attempt ?? 0),
      seq: Number(hash.seq ?? 0),
      attemptStartSeq: Number(hash.attemptStartSeq ?? 1),
      startedAt: hash.startedAt === undefined ? undefined : Number(hash.startedAt),
      done: hash.done === '1',
      cancel: hash.cancel === '1',
    };
  }

  /** The text the current attempt has streamed so far, read back from the log. */
  async streamedText(generationId: string): Promise<string> {
    const meta = await this.meta(generationId);
    if (!meta || meta.attempt === 0) return '';
    const frames = await this.readAfter(generationId, meta.attemptStartSeq - 1);
    return frames.map((frame) => (frame.mt === 'chat_message_bot_partial' ? frame.delta : '')).join('');
  }
}
