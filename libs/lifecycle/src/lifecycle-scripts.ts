import type { RedisClient } from '@ragstream/realtime';

/*
 * The lifecycle's atomic transitions. Every key a script touches is passed in KEYS
 * (none is derived inside), so that they can move to Redis Cluster with hash tags.
 * Meta hash fields: chatId, payload (the job data, kept until the end so that a lost
 * job can be re-added), attempt, seq, attemptStartSeq, startedAt, cancel, done,
 * status, messageId, announced. The FIFO is the chat's list of unfinished generation ids.
 */

/**
 * KEYS: fifo, meta. ARGV: generationId, chatId, payload, ttl, fifoTtl.
 * Returns {'admitted', position} | {'finished'}. A generation admitted before (a resend) keeps its place.
 */
const ADMIT = `
if redis.call('HGET', KEYS[2], 'done') == '1' then return {'finished'} end
local id = ARGV[1]
redis.call('HSET', KEYS[2], 'chatId', ARGV[2], 'payload', ARGV[3])
redis.call('EXPIRE', KEYS[2], ARGV[4])
if not redis.call('LPOS', KEYS[1], id) then redis.call('RPUSH', KEYS[1], id) end
redis.call('EXPIRE', KEYS[1], ARGV[5])
return {'admitted', redis.call('LPOS', KEYS[1], id)}
`;

/**
 * KEYS: fifo, meta, log. ARGV: generationId, chatId, now, ttl, fifoTtl.
 * Returns {'finished'} | {'wait', head} | {'started', attempt, seqBefore, startedAt}.
 */
const BEGIN = `
local meta = KEYS[2]
if redis.call('HGET', meta, 'done') == '1' then return {'finished'} end
if not redis.call('LPOS', KEYS[1], ARGV[1]) then
  redis.call('RPUSH', KEYS[1], ARGV[1])
  redis.call('EXPIRE', KEYS[1], ARGV[5])
end
local head = redis.call('LINDEX', KEYS[1], 0)
if head ~= ARGV[1] then return {'wait', head} end
redis.call('HSET', meta, 'chatId', ARGV[2])
redis.call('HSETNX', meta, 'startedAt', ARGV[3])
redis.call('EXPIRE', meta, ARGV[4])
redis.call('EXPIRE', KEYS[3], ARGV[4])
local attempt = redis.call('HINCRBY', meta, 'attempt', 1)
local seq = tonumber(redis.call('HGET', meta, 'seq') or '0')
redis.call('HSET', meta, 'attemptStartSeq', seq + 1)
return {'started', attempt, seq, tonumber(redis.call('HGET', meta, 'startedAt'))}
`;

/**
 * KEYS: meta, log. ARGV: attempt or '*' (unfenced: nobody runs it), status, messageId, ttl, terminal frame without seq.
 * Returns {the terminal frame's seq[, userId, organisationId]} (the owner from the kept payload),
 * or {-1} done, {-2} superseded, {-4, messageId} this attempt was ended by a stop (STOP).
 * The frame is logged, not published: clients hear of it once the answer is stored.
 */
const FINISH = `
local meta = KEYS[1]
local state = redis.call('HMGET', meta, 'done', 'attempt', 'cancel', 'messageId')
if state[1] == '1' then
  if state[3] == '1' and ARGV[1] == state[2] then return {-4, state[4]} end
  return {-1}
end
if ARGV[1] ~= '*' and state[2] ~= ARGV[1] then return {-2} end
local seq = redis.call('HINCRBY', meta, 'seq', 1)
redis.call('RPUSH', KEYS[2], '{"seq":' .. seq .. ',' .. string.sub(ARGV[5], 2))
redis.call('HSET', meta, 'done', '1', 'status', ARGV[2], 'messageId', ARGV[3])
redis.call('EXPIRE', meta, ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
local payload = redis.call('HGET', meta, 'payload')
if not payload then return {seq} end
local data = cjson.decode(payload)
return {seq, data.userId, data.organisationId}
`;

/**
 * KEYS: fifo, meta. ARGV: generationId. Returns {0} if not finished, else {1, next head or '',
 * userId, organisationId} (the owner from the kept payload, when it has not expired).
 */
const ADVANCE = `
if redis.call('EXISTS', KEYS[2]) == 1 and redis.call('HGET', KEYS[2], 'done') ~= '1' then return {0} end
redis.call('LREM', KEYS[1], 0, ARGV[1])
local head = redis.call('LINDEX', KEYS[1], 0) or ''
local payload = redis.call('HGET', KEYS[2], 'payload')
if not payload then return {1, head} end
local data = cjson.decode(payload)
return {1, head, data.userId, data.organisationId}
`;

/**
 * KEYS: fifo, then meta and log of each id. ARGV: channel, ttl, chatId, then per id the
 * generationId the caller expects in the FIFO and a new message id for its answer.
 * Returns {'retry', the FIFO's ids} when they differ (their keys must be declared first), else
 * {'ok', then per generation it ended: id, terminal line, userId, organisationId, enqueuedAt ('' unknown)}.
 * Each unfinished generation ends here as stopped, with exactly the text its current attempt
 * logged (what clients received): the running attempt's later appends and its finish are
 * refused, and it hears of the stop on the cancel channel (the fast path) or from its next
 * append. Like FINISH, the terminal frame is logged, not published.
 */
const STOP = `
local ids = redis.call('LRANGE', KEYS[1], 0, -1)
local same = #ids * 2 == #ARGV - 3
for i, id in ipairs(ids) do
  if ARGV[2 * i + 2] ~= id then same = false end
end
if not same then
  table.insert(ids, 1, 'retry')
  return ids
end
local chatId = cjson.encode(ARGV[3])
local ended = {'ok'}
for i, id in ipairs(ids) do
  local meta = KEYS[2 * i]
  local log = KEYS[2 * i + 1]
  local state = redis.call('HMGET', meta, 'done', 'attempt', 'attemptStartSeq', 'payload')
  if state[1] ~= '1' then
    local attempt = tonumber(state[2] or '0')
    local text = {}
    if attempt > 0 then
      for _, line in ipairs(redis.call('LRANGE', log, tonumber(state[3] or '1') - 1, -1)) do
        local frame = cjson.decode(line)
        if frame.mt == 'chat_message_bot_partial' then table.insert(text, frame.delta) end
      end
    end
    local messageId = ARGV[2 * i + 3]
    local seq = redis.call('HINCRBY', meta, 'seq', 1)
    local terminal = '{"seq":' .. seq .. ',"mt":"chat_message_bot_complete","chatId":' .. chatId
      .. ',"generationId":' .. cjson.encode(id) .. ',"attempt":' .. math.max(attempt, 1)
      .. ',"status":"stopped","messageId":' .. cjson.encode(messageId)
      .. ',"text":' .. cjson.encode(table.concat(text)) .. ',"sources":[]}'
    redis.call('RPUSH', log, terminal)
    redis.call('HSET', meta, 'cancel', '1', 'done', '1', 'status', 'stopped', 'messageId', messageId)
    redis.call('EXPIRE', meta, ARGV[2])
    redis.call('EXPIRE', log, ARGV[2])
    redis.call('PUBLISH', ARGV[1], id)
    local userId, organisationId, askedAt = '', '', ''
    if state[4] then
      local data = cjson.decode(state[4])
      userId, organisationId, askedAt = data.userId, data.organisationId, string.format('%d', data.enqueuedAt)
    end
    table.insert(ended, id)
    table.insert(ended, terminal)
    table.insert(ended, userId)
    table.insert(ended, organisationId)
    table.insert(ended, askedAt)
  end
end
return ended
`;

/**
 * KEYS: meta. ARGV: channel, terminal frame. Marks the generation's end announced (its answer
 * is stored) and publishes the terminal frame, in one step: clients reading the log get the
 * terminal frame only once it is marked, so that none hears of an answer before it is stored.
 * An expired meta is not created again.
 */
const ANNOUNCE = `
if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('HSET', KEYS[1], 'announced', '1') end
return redis.call('SPUBLISH', ARGV[1], ARGV[2])
`;

export type ScriptReply = (string | number)[];

export interface LifecycleCommands {
  rsAdmit(fifo: string, meta: string, ...args: (string | number)[]): Promise<ScriptReply>;
  rsBegin(fifo: string, meta: string, log: string, ...args: (string | number)[]): Promise<ScriptReply>;
  rsFinish(meta: string, log: string, ...args: (string | number)[]): Promise<ScriptReply>;
  rsAdvance(fifo: string, meta: string, generationId: string): Promise<ScriptReply>;
  rsStop(numberOfKeys: number, ...keysAndArgs: (string | number)[]): Promise<string[]>;
  rsAnnounce(meta: string, channel: string, frame: string): Promise<number>;
}

export function defineLifecycleCommands(redis: RedisClient): RedisClient & LifecycleCommands {
  redis.defineCommand('rsAdmit', { numberOfKeys: 2, lua: ADMIT });
  redis.defineCommand('rsBegin', { numberOfKeys: 3, lua: BEGIN });
  redis.defineCommand('rsFinish', { numberOfKeys: 2, lua: FINISH });
  redis.defineCommand('rsAdvance', { numberOfKeys: 2, lua: ADVANCE });
  redis.defineCommand('rsAnnounce', { numberOfKeys: 1, lua: ANNOUNCE });
  // The number of keys varies with the chat's generations, so it is passed first.
  redis.defineCommand('rsStop', { lua: STOP });
  return redis as RedisClient & LifecycleCommands;
}
