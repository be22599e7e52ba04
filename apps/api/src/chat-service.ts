import type { GenerationLifecycle, GenerationQueue } from '@ragstream/lifecycle';
import type { ChatMessage, ChatStatus, RedisKeys } from '@ragstream/protocol';
import { generationIdFor } from '@ragstream/protocol';
import type { FrameLog, RedisClient } from '@ragstream/realtime';
import { countConnections } from '@ragstream/realtime';
import type { ChatStore, Stored } from '@ragstream/store';
import { newMessageId } from '@ragstream/store';
import { ApiError, chatNotFound } from './api-error.ts';
import type { Caller } from './limits/caller.ts';
import type { MessageLimits } from './limits/message-limits.ts';
import { tooManyAnswers } from './limits/message-limits.ts';
import type { MessageTrace } from './message-trace.ts';
import type { UserEvents } from './user-events.ts';

export interface UserMessageInput {
  text: string;
  clientMessageId?: string | undefined;
}

/** The limits a new user message must pass before it is stored. */
export interface MessageAdmission {
  caller: Caller;
  /** Whether it asks for an answer (quotas, answers in progress and queue depth apply then). */
  answer: boolean;
}

export interface AnswerOptions {
  userId: string;
  timezone?: string | undefined;
  selectedLanguage?: string | undefined;
  /** performance.now() when the message arrived at this node; defaults to the admission. */
  receivedAt?: number | undefined;
}

export interface StoredUserMessage {
  message: ChatMessage;
  organisationId: string;
  /** The chat's owner, whose connections hear that an answer started. */
  ownerId: string;
  /** false for a resend of a message already stored (same clientMessageId). */
  created: boolean;
  generationId: string;
  /** The answer's lease, taken with the limits before storing, for this caller; the admission then needs no other. */
  lease?: Caller | undefined;
  /** The message's trace, its logger bound to the message and generation ids too. */
  trace: MessageTrace;
}

export interface ChatServiceDeps {
  store: ChatStore;
  queue: GenerationQueue;
  lifecycle: GenerationLifecycle;
  log: FrameLog;
  redis: RedisClient;
  keys: RedisKeys;
  clock: AnswerClock;
  events: UserEvents;
  /** The chat's answer this node sees streaming, if any (its frame hub): a stop then takes one round trip. */
  streaming: (chatId: string) => string[];
  limits: MessageLimits;
}

/** Where the node notes when answers and stops were asked for, to time what clients then receive. */
export interface AnswerClock {
  answerRequested(generationId: string, receivedAt: number): void;
  stopRequested(chatId: string, receivedAt: number): void;
}

/** What every transport does with a chat: store messages, request answers, stop, report status. */
export class ChatService {
  constructor(private readonly deps: ChatServiceDeps) {}

  /**
   * Stores a user message. With `admission`, a new message must first pass the limits (a
   * refusal throws, and nothing is stored); a resend of a stored one (same clientMessageId)
   * is not a new message, and is confirmed again whatever the limits.
   */
  async storeUserMessage(
    chatId: string,
    input: UserMessageInput,
    trace: MessageTrace,
    admission?: MessageAdmission,
  ): Promise<StoredUserMessage> {
    const chat = await this.deps.store.getChat(chatId);
    if (!chat) throw chatNotFound(chatId);
    // Chosen now, so that the limits can take the answer's lease in their round trip.
    const id = newMessageId();
    let lease: Caller | undefined;
    if (admission) {
      const { clientMessageId } = input;
      const { caller } = admission;
      // Looked up while the limits are read: a resend is confirmed whatever they say.
      const [resent, checked] = await Promise.all([
        clientMessageId === undefined ? null : this.deps.store.findMessageByClientId(chatId, clientMessageId),
        this.deps.limits
          .check(caller, admission.answer ? { answer: true, generationId: generationIdFor(id) } : { answer: false })
          .catch((err: unknown) => ({ refusal: err })),
      ]);
      if ('refusal' in checked) {
        if (!resent) throw checked.refusal;
      } else if (checked.leaseHeld) lease = caller;
    }
    let stored: Stored<ChatMessage>;
    try {
      stored = await this.deps.store.createMessage({ id, chatId, role: 'user', text: input.text, clientMessageId: input.clientMessageId });
    } catch (err) {
      await this.releaseLease(lease, id, trace);
      throw err;
    }
    const { value, created } = stored;
    // A resend's answer is the first send's: the lease taken for a new one goes back.
    if (!created) await this.releaseLease(lease, id, trace);
    if (!created && value.text !== input.text) {
      throw new ApiError('conflict', `clientMessageId ${input.clientMessageId ?? ''} was already used for a different message`);
    }
    const generationId = generationIdFor(value.id);
    const log = trace.log.child({ messageId: value.id, generationId });
    log.info(created ? 'user message stored' : 'user message resent; stored before', { clientMessageId: input.clientMessageId });
    return {
      message: value,
      organisationId: chat.organisationId,
      ownerId: chat.userId,
      created,
      generationId,
      lease: created ? lease : undefined,
      trace: { traceId: trace.traceId, log },
    };
  }

  private async releaseLease(lease: Caller | undefined, messageId: string, trace: MessageTrace): Promise<void> {
    if (!lease) return;
    const generationId = generationIdFor(messageId);
    try {
      await this.deps.limits.release(lease, generationId);
    } catch (err) {
      // It lapses by itself after the generation's TTL.
      trace.log.warn('could not give back the lease of an answer not admitted', { generationId, err });
    }
  }

  /** Admits and dispatches the answer to a stored user message (for callers that confirm afterwards). */
  async requestAnswer(stored: StoredUserMessage, options: AnswerOptions): Promise<void> {
    await (await this.admitAnswer(stored, options))?.();
  }

  /**
   * Fixes the answer's place in its chat's order, so that a confirmation sent after it
   * matches the order in which answers come; returns the dispatch to call next, or
   * undefined when a resend finds its answer already requested or given.
   */
  async admitAnswer(stored: StoredUserMessage, options: AnswerOptions): Promise<(() => Promise<void>) | undefined> {
    const { log, traceId } = stored.trace;
    if (!stored.created) {
      const state = await this.deps.queue.state(stored.generationId);
      if (state !== 'unknown') {
        log.debug('answer requested before; not admitted again', { state });
        return undefined;
      }
      if (await this.deps.store.findBotMessageByGeneration(stored.generationId)) {
        log.debug('answer stored before; not admitted again');
        return undefined;
      }
    }
    const data = {
      chatId: stored.message.chatId,
      organisationId: stored.organisationId,
      userId: options.userId,
      userMessageId: stored.message.id,
      generationId: stored.generationId,
      text: stored.message.text,
      timezone: options.timezone,
      selectedLanguage: options.selectedLanguage,
      enqueuedAt: Date.now(),
      traceId,
    };
    const { lease } = stored;
    const leaseHeld = lease !== undefined && lease.userId === data.userId && lease.organisationId === data.organisationId;
    if (lease && !leaseHeld) await this.releaseLease(lease, stored.message.id, stored.trace);
    const admission = await this.deps.lifecycle.admit(data, this.deps.limits.answers, leaseHeld);
    if (admission.kind === 'finished') {
      log.debug('answer finished before; not admitted again');
      return undefined;
    }
    if (admission.kind === 'refused') {
      // Checked before storing too; only a race with another admission lands here. Nothing of the message is kept.
      if (stored.created) await this.deps.store.deleteMessage(stored.message.chatId, stored.message.id);
      log.info('answer refused: too many in progress', { scope: admission.scope, inProgress: admission.inProgress });
      throw tooManyAnswers(admission.scope, admission.limit);
    }
    log.info('answer admitted', { position: admission.position });
    this.deps.clock.answerRequested(stored.generationId, options.receivedAt ?? performance.now());
    return async () => {
      // After the confirmation, which waits for nothing else: the user's other tabs hear of it a moment later.
      this.deps.events.answerStarted(stored.ownerId, data.chatId, data.generationId);
      await this.deps.lifecycle.dispatch(data);
      log.info('answer dispatched', { jobId: data.generationId });
    };
  }

  /** `receivedAt`: performance.now() when the stop arrived at this node. */
  async stop(chatId: string, receivedAt = performance.now()): Promise<string[]> {
    if (!(await this.deps.store.getChat(chatId))) throw chatNotFound(chatId);
    this.deps.clock.stopRequested(chatId, receivedAt);
    return this.deps.lifecycle.stop(chatId, this.deps.streaming(chatId));
  }

  /** Deletes the chat first, so that an answer stopped meanwhile is not stored into it. */
  async deleteChat(chatId: string): Promise<boolean> {
    // Read first: the owner's connections are told, and the deleted chat no longer names its owner.
    const chat = await this.deps.store.getChat(chatId);
    if (!chat || !(await this.deps.store.deleteChat(chatId))) return false;
    this.deps.events.chatDeleted(chat.userId, chatId);
    await this.deps.lifecycle.stop(chatId, this.deps.streaming(chatId));
    return true;
  }

  async status(chatId: string): Promise<ChatStatus> {
    if (!(await this.deps.store.getChat(chatId))) throw chatNotFound(chatId);
    const [connections, head] = await Promise.all([
      countConnections(this.deps.redis, this.deps.keys, chatId),
      this.deps.lifecycle.head(chatId),
    ]);
    const meta = head === undefined ? undefined : await this.deps.log.meta(chatId, head);
    const generating =
      head !== undefined && meta !== undefined && meta.attempt > 0 && !meta.done
        ? { generationId: head, attempt: meta.attempt, seq: meta.seq }
        : null;
    return { chatId, connections, generating };
  }
}
