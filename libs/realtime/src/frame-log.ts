import type { GenerationFrame, RedisKeys, UnsequencedFrame } from '@ragstream/protocol';
import { generationFrameSchema } from '@ragstream/protocol';
import { CoalescedWrites } from './coalesced-writes.ts';
import type { RedisClient } from './redis-connection.ts';

/*
 * A generation's frames live in a Redis list (index = seq - 1) beside a meta hash.
 * Frames are numbered, logged and published by one script, so the log and the live
 * stream never disagree. An append is refused once the generation is done, when
 * another attempt has replaced the caller's, and once a stop was requested: the
 * running attempt learns of a stop from its next append even if every pub/sub
 * message was lost. Frames go out on the chat's sharded channel (SPUBLISH, Redis 7): it
 * hashes to the keys' slot, so that in a Redis Cluster only that slot's shard carries them.
 * Terminal frames and the meta's other fields belong to the
 * answer lifecycle (@ragstream/lifecycle); this module only streams.
 */

/** `stamped`: each frame also gets `appendedAt`, Redis's clock in ms when it was appended (load tests). */
function appendScript(stamped: boolean): string {
  return `
local meta = KEYS[1]
local state = redis.call('HMGET', meta, 'done', 'attempt', 'cancel')
if state[3] == '1' then return -3 end
if state[1] == '1' then return -1 end
if state[2] ~= ARGV[2] then return -2 end
${stamped ? "local now = redis.call('TIME')\nlocal stamp = ',\"appendedAt\":' .. string.format('%d', now[1] * 1000 + math.floor(now[2] / 1000))" : "local stamp = ''"}
local count = #ARGV - 3
local seq = 0
if count > 0 then
  seq = redis.call('HINCRBY', meta, 'seq', count)
  local frames = {}
  for i = 1, count do
    frames[i] = '{"seq":' .. (seq - count + i) .. stamp .. ',' .. string.sub(ARGV[i + 3], 2)
    redis.call('SPUBLISH', ARGV[1], frames[i])
  end
  redis.call('RPUSH', KEYS[2], unpack(frames))
end
-- Both TTLs are refreshed together, as every lifecycle script does, once half of the log's
-- has passed (or it has none yet): not on every append, which would cost two writes each.
if redis.call('PTTL', KEYS[2]) < ARGV[3] * 500 then
  redis.call('EXPIRE', meta, ARGV[3])
  redis.call('EXPIRE', KEYS[2], ARGV[3])
end
return seq
`;
}

type AppendCommand = 'rsAppendFrames' | 'rsAppendFramesStamped';

type FrameLogCommands = Record<AppendCommand, (meta: string, log: string, ...args: (string | number)[]) => Promise<number>>;

/** Why an attempt may no longer append: finished, replaced by a newer attempt, or asked to stop. */
export type RefusalReason = 'done' | 'fenced' | 'cancelled';

/** `lastSeq` is 0 when no frame was given (a probe). */
export type AppendResult = { ok: true; lastSeq: number } | { ok: false; reason: RefusalReason };

const REFUSALS: Record<number, RefusalReason> = { [-1]: 'done', [-2]: 'fenced', [-3]: 'cancelled' };

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
  private readonly redis: RedisClient & FrameLogCommands;
  private readonly command: AppendCommand;
  private readonly writes: CoalescedWrites;

  /** `stampAppendTime`: frames carry `appendedAt` (FRAME_APPEND_TIMESTAMPS), so that clients can measure delivery. */
  constructor(
    redis: RedisClient,
    private readonly keys: RedisKeys,
    readonly ttlSeconds: number,
    options: { stampAppendTime?: boolean } = {},
  ) {
    // Named by variant: one connection may carry a stamping and a plain log (tests).
    this.command = options.stampAppendTime ? 'rsAppendFramesStamped' : 'rsAppendFrames';
    redis.defineCommand(this.command, { numberOfKeys: 2, lua: appendScript(options.stampAppendTime === true) });
    this.redis = redis as RedisClient & FrameLogCommands;
    this.writes = new CoalescedWrites(redis);
  }

  /** Numbers, logs and publishes frames of a running attempt; with no frames, only checks that it may go on. */
  async append(chatId: string, generationId: string, attempt: number, frames: UnsequencedFrame[]): Promise<AppendResult> {
    this.writes.hold();
    const result = await this.redis[this.command](
      this.keys.generationMeta(chatId, generationId),
      this.keys.generationLog(chatId, generationId),
      this.keys.chatFrames(chatId),
      String(attempt),
      this.ttlSeconds,
      ...frames.map((frame) => JSON.stringify(frame)),
    );
    const refusal = REFUSALS[result];
    return refusal === undefined ? { ok: true, lastSeq: result } : { ok: false, reason: refusal };
  }

  /** Frames with seq > afterSeq, in order. */
  async readAfter(chatId: string, generationId: string, afterSeq: number): Promise<GenerationFrame[]> {
    const raw = await this.redis.lrange(this.keys.generationLog(chatId, generationId), Math.max(0, afterSeq), -1);
    return raw.map((line) => generationFrameSchema.parse(JSON.parse(line)));
  }

  /**
   * Frames with seq > afterSeq as clients may have them: the terminal frame only once its end
   * is announced (the answer stored, see the lifecycle's ANNOUNCE), so that a client reading
   * the log never hears of an answer the chat's messages do not show yet. A withheld terminal
   * frame reaches a subscribed client live when it is announced. `withheld`: one was held back.
   */
  async readForClients(chatId: string, generationId: string, afterSeq: number): Promise<{ frames: GenerationFrame[]; withheld: boolean }> {
    // The mark is read before the log, on the same connection: a terminal frame logged after the
    // read is withheld, and its announcement, which comes later still, reaches subscribers live.
    const [announced, frames] = await Promise.all([
      this.redis.hget(this.keys.generationMeta(chatId, generationId), 'announced'),
      this.readAfter(chatId, generationId, afterSeq),
    ]);
    if (announced === '1' || frames.at(-1)?.mt !== 'chat_message_bot_complete') return { frames, withheld: false };
    return { frames: frames.slice(0, -1), withheld: true };
  }

  async meta(chatId: string, generationId: string): Promise<GenerationMeta | undefined> {
    const hash = await this.redis.hgetall(this.keys.generationMeta(chatId, generationId));
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
  async streamedText(chatId: string, generationId: string): Promise<string> {
    const meta = await this.meta(chatId, generationId);
    if (!meta || meta.attempt === 0) return '';
    const frames = await this.readAfter(chatId, generationId, meta.attemptStartSeq - 1);
    return frames.map((frame) => (frame.mt === 'chat_message_bot_partial' ? frame.delta : '')).join('');
  }
}
