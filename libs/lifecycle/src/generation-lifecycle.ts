import type { BotStatus, ChatMessage, GenerateJobData, LimitScope, RedisKeys, Source, UnsequencedFrame } from '@ragstream/protocol';
import { generateJobSchema, generationFrameSchema } from '@ragstream/protocol';
import type { FrameLog, GenerationIdentity, RedisClient } from '@ragstream/realtime';
import type { Logger } from '@ragstream/runtime';
import type { ChatStore } from '@ragstream/store';
import { newMessageId } from '@ragstream/store';
import type { AnswerLimits, AnswerOwner, AnswersInProgress, Reservation } from './answer-leases.ts';
import { AnswerLeases, NO_ANSWER_LIMITS } from './answer-leases.ts';
import { generationLogFields } from './generation-log-fields.ts';
import type { GenerationQueue } from './generation-queue.ts';
import { LIVE_JOB_STATES } from './generation-queue.ts';
import type { LifecycleCommands, ScriptReply } from './lifecycle-scripts.ts';
import { defineLifecycleCommands } from './lifecycle-scripts.ts';

/** Keeps a chat's pending generations long after any single answer could run. */
const FIFO_TTL_SECONDS = 7 * 24 * 3600;
/** A stop retries this often when the chat's generations change under it. */
const STOP_TRIES = 5;

export type Admission =
  | { kind: 'admitted'; position: number }
  | { kind: 'finished' }
  /** Nothing was written: the user (or organisation) has `inProgress` answers admitted and not finished. */
  | { kind: 'refused'; scope: LimitScope; inProgress: number; limit: number };

export type Begin = { kind: 'started'; attempt: number; startedAt: number } | { kind: 'wait'; head: string } | { kind: 'finished' };

/** How an attempt ended, as the worker saw it. */
export interface AnswerEnd {
  status: BotStatus;
  /** Exactly the text clients received of this attempt. */
  text: string;
  sources: Source[];
  grounded?: boolean | undefined;
  language?: string | undefined;
  error?: string | undefined;
}

export type FinishOutcome = { kind: 'finished'; status: BotStatus; messageId: string } | { kind: 'superseded'; reason: 'done' | 'fenced' };

export type HeadCheck = 'alive' | 'ended';

/** The finish script's answer: logged, or refused (finished before, superseded, or ended by a stop). */
type FinishReply =
  | { kind: 'logged'; logged: string; owner: AnswerOwner | undefined }
  | { kind: 'done' }
  | { kind: 'fenced' }
  | { kind: 'stopped'; messageId: string };

export interface LifecycleDeps {
  redis: RedisClient;
  keys: RedisKeys;
  log: FrameLog;
  store: ChatStore;
  queue: GenerationQueue;
  logger: Logger;
  ttlSeconds: number;
}

/**
 * The one owner of a generation's life, from the user's message to its stored answer.
 * Its state lives in the meta hash, the chat's FIFO, the BullMQ job and the store;
 * only this module changes them, and each transition is one atomic script
 * (lifecycle-scripts.ts) or one store write that follows from a finished state.
 *
 * States (derived from the meta hash, never stored twice):
 * - queued: admitted (in the FIFO, payload kept), attempt = 0;
 * - waiting: queued and not the FIFO's head (its job is delayed until promoted);
 * - running n: attempt = n, not done, no stop requested;
 * - finished: done, with status complete | stopped | failed and the message id; a stop
 *   also sets cancel, so that the attempt it ended is refused as stopped, not superseded.
 *
 * | state      | event                    | guard                      | effect |
 * |------------|--------------------------|----------------------------|--------|
 * | -          | admit (API)              | not finished; the user's and organisation's leases taken under their limits | FIFO push once, payload kept; then the job is added |
 * | queued     | begin (worker)           | not the head               | wait: job delayed; a head without a live job is re-added from its payload, or ended failed |
 * | queued/running | begin                | head                       | attempt + 1 (a retry or takeover supersedes the old attempt) |
 * | running n  | append (frame log)       | attempt = n, not done      | frames numbered, logged, published |
 * | running n  | finish n                 | attempt = n, not done      | terminal frame, done, status, message id |
 * | finished (stopped) | finish n         | attempt n was running      | nothing: the stop ended it; the attempt completes it too |
 * | any        | stop (API or abandon)    | not done                   | ended stopped with the current attempt's logged text, in one script; workers told (fast path); the stopper completes it; waiting jobs removed |
 * | any        | end unrun (no worker runs it: removed, failed for good, lost) | not done | terminal frame of the current attempt's streamed text |
 * | finished   | complete                 | -                          | bot message stored once under the terminal frame's id; then announced (marked, terminal frame published); FIFO pop; leases given back; next head promoted |
 *
 * Answers in progress (admitted, not completed) hold a lease of their user's and of their
 * organisation's (answer-leases.ts). `complete` follows every ending, so it gives them back
 * on every path; a lease lapses by itself after the generation's TTL, so that an answer
 * whose processes all died stops counting.
 *
 * A superseded attempt can do nothing but stop: its appends and its finish are refused,
 * and only a finished generation hands the chat's turn on. The stored message follows
 * from the terminal frame, so whoever finds a finished generation unstored (a retry of
 * a job whose worker died right after finishing) completes it the same way.
 */
export class GenerationLifecycle {
  private readonly redis: RedisClient & LifecycleCommands;
  private readonly leases: AnswerLeases;

  constructor(private readonly deps: LifecycleDeps) {
    this.redis = defineLifecycleCommands(deps.redis);
    this.leases = new AnswerLeases(deps.redis, deps.keys, deps.ttlSeconds);
  }

  /** The generation whose turn it is in a chat, if any. */
  async head(chatId: string): Promise<string | undefined> {
    return (await this.redis.lindex(this.deps.keys.chatFifo(chatId), 0)) ?? undefined;
  }

  /**
   * Takes an answer's lease under the limits before its message is stored, so that the
   * admission that follows cannot be refused (`admit` with `leaseHeld`). Refused, it holds none.
   */
  reserve(owner: AnswerOwner, generationId: string, limits: AnswerLimits): Promise<Reservation> {
    return this.leases.reserve(owner, generationId, limits);
  }

  /** Gives back a lease taken by `reserve` for an answer that will not be admitted. */
  release(owner: AnswerOwner, generationId: string): Promise<void> {
    return this.leases.release(owner, generationId);
  }

  /**
   * Fixes the answer's place in its chat's order; call before confirming the message, then
   * `dispatch`. With limits, a new answer is refused (nothing written) while its user or
   * organisation has as many answers in progress; one admitted before is admitted again.
   * `leaseHeld`: its lease was taken by `reserve`, so the admission alone remains.
   */
  async admit(data: GenerateJobData, limits: AnswerLimits = NO_ANSWER_LIMITS, leaseHeld = false): Promise<Admission> {
    const payload = generateJobSchema.parse(data);
    const { ttlSeconds } = this.deps;
    const owner = ownerOf(payload);
    const limited = limits.perUser > 0 || limits.perOrganisation > 0;
    // Without limits the lease cannot be refused, so it goes with the admission, in the same round trip.
    const [reservation, reply] = await Promise.all([
      leaseHeld ? ({ kind: 'held' } as const) : this.leases.reserve(owner, payload.generationId, limits),
      limited && !leaseHeld ? undefined : this.runAdmit(payload, ttlSeconds),
    ]);
    if (reservation.kind === 'refused') return reservation;
    const [kind, position] = reply ?? (await this.runAdmit(payload, ttlSeconds));
    if (kind === 'admitted') return { kind, position: Number(position) };
    if (kind === 'finished') {
      // Completed before: its lease was given back then, and is not taken again.
      await this.leases.release(owner, payload.generationId);
      return { kind };
    }
    throw new Error(`unexpected admit reply ${JSON.stringify([kind, position])}`);
  }

  private runAdmit(payload: GenerateJobData, ttlSeconds: number): Promise<ScriptReply> {
    const { keys } = this.deps;
    return this.redis.rsAdmit(
      keys.chatFifo(payload.chatId),
      keys.generationMeta(payload.chatId, payload.generationId),
      payload.generationId,
      payload.chatId,
      JSON.stringify(payload),
      ttlSeconds,
      FIFO_TTL_SECONDS,
    );
  }

  /** Answers admitted and not completed, of a user and of an organisation; 0 for the one not asked about. */
  inProgress(owner: Partial<AnswerOwner>): Promise<AnswersInProgress> {
    return this.leases.count(owner);
  }

  /** Whether the generation's answer is stored already (its state may have expired long after). */
  async isStored(generationId: string): Promise<boolean> {
    return (await this.deps.store.findBotMessageByGeneration(generationId)) !== null;
  }

  /** For a job that just moved to wait for its turn: if the turn came meanwhile (the head ended, promoting nothing), run now. */
  async promoteIfHead(chatId: string, generationId: string): Promise<void> {
    if ((await this.head(chatId)) === generationId) await this.deps.queue.promote(generationId);
  }

  /** Hands an admitted answer to the workers (idempotent); only after the admission, which limits may refuse. */
  dispatch(data: GenerateJobData): Promise<void> {
    return this.deps.queue.add(data);
  }

  /** A worker's first step for a job: its turn, a stop, or a new attempt. */
  async begin(data: GenerateJobData): Promise<Begin> {
    const { keys, ttlSeconds } = this.deps;
    const reply = await this.redis.rsBegin(
      keys.chatFifo(data.chatId),
      keys.generationMeta(data.chatId, data.generationId),
      keys.generationLog(data.chatId, data.generationId),
      data.generationId,
      data.chatId,
      Date.now(),
      ttlSeconds,
      FIFO_TTL_SECONDS,
    );
    const [kind, a, , c] = reply;
    if (kind === 'wait') return { kind: 'wait', head: String(a) };
    if (kind === 'started') return { kind: 'started', attempt: Number(a), startedAt: Number(c) };
    if (kind === 'finished') return { kind };
    throw new Error(`unexpected begin reply ${JSON.stringify(reply)}`);
  }

  /**
   * For a job that is not its chat's turn: is the head still going to run? A head whose
   * job was never added (its API node died in between, or has not got there yet) is
   * re-added from the kept payload; a finished one is completed; anything else is
   * ended as failed, so that the chat never blocks.
   */
  async checkHead(chatId: string, head: string): Promise<HeadCheck> {
    const state = await this.deps.queue.state(head);
    if (LIVE_JOB_STATES.has(state)) return 'alive';
    const meta = await this.redis.hmget(this.deps.keys.generationMeta(chatId, head), 'done', 'payload');
    const [done, payload] = meta;
    if (done === '1') {
      await this.complete(chatId, head);
      return 'ended';
    }
    if (state === 'unknown' && payload) {
      this.deps.logger.info('re-adding the job of an admitted answer', { chatId, generationId: head });
      await this.deps.queue.add(generateJobSchema.parse(JSON.parse(payload)));
      return 'alive';
    }
    this.deps.logger.warn('the chat’s current answer has no job that will run; ending it as failed', { chatId, generationId: head, state });
    await this.endUnrun(chatId, head, 'failed', 'the answer was lost; please ask again');
    return 'ended';
  }

  /**
   * Ends a running attempt: one fenced script writes the terminal frame, then the bot
   * message is stored and the chat's turn handed on. Refused for a superseded attempt,
   * which must then stop without writing anything. A stop requested meanwhile turns any
   * ending into `stopped`, with the same text. `log`: the attempt's logger.
   */
  async finish(id: GenerationIdentity, end: AnswerEnd, askedAt: number, log: Logger = this.generationLog(id)): Promise<FinishOutcome> {
    const messageId = newMessageId();
    const finished = await this.runFinish(id, String(id.attempt), end, messageId);
    if (finished.kind === 'done' || finished.kind === 'fenced') return { kind: 'superseded', reason: finished.kind };
    if (finished.kind === 'stopped') {
      // The stopper completes it; so does this attempt, in case the stopper's process died in between.
      log.info('generation was stopped; completing it');
      await this.complete(id.chatId, id.generationId, askedAt, log);
      return { kind: 'finished', status: 'stopped', messageId: finished.messageId };
    }
    log.info('generation finished', { status: end.status, botMessageId: messageId, chars: end.text.length, sources: end.sources.length });
    await this.complete(id.chatId, id.generationId, askedAt, log, finished.logged, finished.owner);
    return { kind: 'finished', status: end.status, messageId };
  }

  /**
   * Ends a generation that no worker runs (a removed waiting job, a job that failed for
   * good, a lost one) with what its current attempt streamed, then completes it.
   */
  async endUnrun(
    chatId: string,
    generationId: string,
    status: BotStatus,
    error?: string,
    log: Logger = this.generationLog({ chatId, generationId }),
  ): Promise<void> {
    const meta = await this.deps.log.meta(chatId, generationId);
    if (!meta?.done) {
      const text = await this.deps.log.streamedText(chatId, generationId);
      const id = { chatId, generationId, attempt: Math.max(meta?.attempt ?? 0, 1) };
      const messageId = newMessageId();
      const ended = await this.runFinish(id, '*', { status, text, sources: [], error }, messageId);
      if (ended.kind !== 'logged') {
        // Someone else ended it first.
        await this.complete(chatId, generationId, undefined, log);
        return;
      }
      log.info('generation ended without running', { status, botMessageId: messageId, error });
      await this.complete(chatId, generationId, undefined, log, ended.logged, ended.owner);
      return;
    }
    await this.complete(chatId, generationId, undefined, log);
  }

  /**
   * Stop for a chat, from any process: one script ends every unfinished generation as
   * stopped, with what its current attempt streamed, and tells the workers (the fast path;
   * a running attempt is also refused at its next append). The answers are then stored and
   * their terminal frames published from here, in the chat's order, so that a stop does not
   * wait for the worker; waiting jobs are removed. Returns the ids it stopped.
   * `expected`: the chat's generations as the caller believes them (e.g. the one this
   * node sees streaming); when right, the stop takes one round trip, else the script
   * answers with the actual ones and it tries again.
   */
  async stop(chatId: string, expected: readonly string[] = []): Promise<string[]> {
    const { keys, ttlSeconds } = this.deps;
    const fifo = keys.chatFifo(chatId);
    let ids = [...expected];
    for (let i = 0; i < STOP_TRIES; i += 1) {
      const keyList = [fifo, ...ids.flatMap((id) => [keys.generationMeta(chatId, id), keys.generationLog(chatId, id)])];
      const reply = await this.redis.rsStop(
        keyList.length,
        ...keyList,
        keys.cancelChannel,
        ttlSeconds,
        chatId,
        ...ids.flatMap((id) => [id, newMessageId()]),
      );
      const [kind, ...rest] = reply;
      if (kind === 'retry') {
        ids = rest;
        continue;
      }
      const ended = stopReplies(rest);
      const removed = Promise.all(ended.map(({ generationId }) => this.removeWaitingJob(chatId, generationId)));
      for (const { generationId, terminal, owner, askedAt } of ended) {
        const log = this.generationLog({ chatId, generationId });
        log.info('generation stopped');
        await this.complete(chatId, generationId, askedAt, log, terminal, owner);
      }
      await removed;
      return ended.map(({ generationId }) => generationId);
    }
    throw new Error(`chat ${chatId}: its answers kept changing while stopping`);
  }

  /** Ends a job that BullMQ will not run again. */
  async jobFailed(data: GenerateJobData, error: string): Promise<void> {
    if ((await this.deps.queue.state(data.generationId)) !== 'failed') return;
    const log = this.deps.logger.child(generationLogFields(data));
    log.warn('generation job failed for good', { error });
    await this.endUnrun(data.chatId, data.generationId, 'failed', error, log);
  }

  /**
   * A finished generation's bot message, stored once under the id its terminal frame
   * announced; then the terminal frame is published (so that a client that reads the
   * chat when it arrives finds the answer) and the turn moves on. Repeating it is
   * harmless: clients drop a frame whose seq they have. The answer's leases are given back
   * before clients hear of its end, so that the next message they send finds its place;
   * `owner`: the answer's, when the finisher read it (else it is read at the end).
   */
  async complete(
    chatId: string,
    generationId: string,
    askedAt?: number,
    log: Logger = this.generationLog({ chatId, generationId }),
    logged?: string,
    owner?: AnswerOwner,
  ): Promise<ChatMessage | undefined> {
    const { keys } = this.deps;
    // Sent first on the connection that publishes the end below, so that Redis gives the leases
    // back before any client hears of it; awaited with the publish, so that it costs no round trip.
    const released = owner && this.leases.release(owner, generationId);
    // Awaited below; meanwhile its failure must not count as unhandled.
    released?.catch(() => undefined);
    // The finishing attempt knows the line it logged; anyone else reads it back.
    const raw = logged ?? (await this.redis.lindex(keys.generationLog(chatId, generationId), -1));
    const terminal = raw === null ? undefined : generationFrameSchema.parse(JSON.parse(raw));
    let message: ChatMessage | undefined;
    if (raw !== null && terminal?.mt === 'chat_message_bot_complete') {
      const { store } = this.deps;
      const { value } = await store.saveBotMessage({
        id: terminal.messageId,
        chatId,
        generationId,
        text: terminal.text,
        status: terminal.status,
        sources: terminal.sources,
        grounded: terminal.grounded,
        createdAt: new Date((askedAt ?? (await this.askedAt(chatId, generationId))) + 1),
      });
      // An answer to a chat deleted meanwhile is not kept.
      if (!(await store.getChat(chatId))) {
        await store.deleteMessage(chatId, value.id);
        log.info('chat deleted meanwhile; bot message not kept', { botMessageId: value.id });
      } else {
        message = value;
        log.info('bot message stored', { botMessageId: value.id, status: value.status });
      }
      await Promise.all([released, this.redis.rsAnnounce(keys.generationMeta(chatId, generationId), keys.chatFrames(chatId), raw)]);
    } else {
      log.warn('a finished generation has no terminal frame left (expired); nothing to store');
      await released;
    }
    await this.advance(chatId, generationId, owner === undefined);
    return message;
  }

  /** `release`: whether the answer's leases are still to be given back. */
  private async advance(chatId: string, generationId: string, release: boolean): Promise<void> {
    const [advanced, next, userId, organisationId] = await this.redis.rsAdvance(
      this.deps.keys.chatFifo(chatId),
      this.deps.keys.generationMeta(chatId, generationId),
      generationId,
    );
    if (advanced !== 1) throw new Error(`generation ${generationId} of chat ${chatId} cannot hand its turn on: it has not finished`);
    // Without its payload (expired) the owner is unknown; its leases have lapsed by then too.
    const owner = release ? ownerFrom(userId, organisationId) : undefined;
    await Promise.all([owner && this.leases.release(owner, generationId), next ? this.deps.queue.promote(String(next)) : undefined]);
  }

  /** A stopped generation's job that has not started need not run: it would only find the answer finished. */
  private async removeWaitingJob(chatId: string, generationId: string): Promise<void> {
    const job = await this.deps.queue.getJob(generationId);
    const state = job ? await job.getState() : 'unknown';
    if (!job || state === 'active' || !LIVE_JOB_STATES.has(state)) return;
    try {
      await job.remove();
    } catch (err) {
      // Taken by a worker meanwhile: its attempt begins, finds the answer finished and completes the job.
      this.deps.logger.info('a stopped job could not be removed; it ends itself when it begins', { chatId, generationId, err });
    }
  }

  /** For callers without a job's logger: the generation's ids at least. */
  private generationLog(id: { chatId: string; generationId: string }): Logger {
    return this.deps.logger.child({ chatId: id.chatId, generationId: id.generationId });
  }

  private async askedAt(chatId: string, generationId: string): Promise<number> {
    const [payload, startedAt] = await this.redis.hmget(this.deps.keys.generationMeta(chatId, generationId), 'payload', 'startedAt');
    if (payload) return generateJobSchema.parse(JSON.parse(payload)).enqueuedAt;
    return startedAt ? Number(startedAt) : Date.now();
  }

  /** Runs the finish script; `logged` is the terminal line exactly as the script logged it. */
  private async runFinish(id: GenerationIdentity, fence: string, end: AnswerEnd, messageId: string): Promise<FinishReply> {
    const { keys, ttlSeconds } = this.deps;
    const frame: UnsequencedFrame = {
      mt: 'chat_message_bot_complete',
      ...id,
      status: end.status,
      messageId,
      text: end.text,
      sources: end.sources,
      ...(end.grounded === undefined ? {} : { grounded: end.grounded }),
      ...(end.language === undefined ? {} : { language: end.language }),
      ...(end.error === undefined ? {} : { error: end.error }),
    };
    const body = JSON.stringify(frame);
    const reply = await this.redis.rsFinish(
      keys.generationMeta(id.chatId, id.generationId),
      keys.generationLog(id.chatId, id.generationId),
      fence,
      end.status,
      messageId,
      ttlSeconds,
      body,
    );
    const seq = Number(reply[0]);
    if (seq === -1) return { kind: 'done' };
    if (seq === -2) return { kind: 'fenced' };
    if (seq === -4) return { kind: 'stopped', messageId: String(reply[1]) };
    return { kind: 'logged', logged: `{"seq":${seq},${body.slice(1)}`, owner: ownerFrom(reply[1], reply[2]) };
  }
}

function ownerOf(data: GenerateJobData): AnswerOwner {
  return { userId: data.userId, organisationId: data.organisationId };
}

interface StoppedGeneration {
  generationId: string;
  terminal: string;
  owner: AnswerOwner | undefined;
  askedAt: number | undefined;
}

/** The STOP script's reply after 'ok': per generation it ended, its id, terminal line, owner and time asked. */
function stopReplies(reply: readonly string[]): StoppedGeneration[] {
  const ended: StoppedGeneration[] = [];
  for (let i = 0; i + 4 < reply.length; i += 5) {
    const askedAt = reply[i + 4];
    ended.push({
      generationId: reply[i] ?? '',
      terminal: reply[i + 1] ?? '',
      owner: ownerFrom(reply[i + 2], reply[i + 3]),
      askedAt: askedAt ? Number(askedAt) : undefined,
    });
  }
  return ended;
}

function ownerFrom(userId: string | number | undefined, organisationId: string | number | undefined): AnswerOwner | undefined {
  return userId && organisationId ? { userId: String(userId), organisationId: String(organisationId) } : undefined;
}
