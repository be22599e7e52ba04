import { randomUUID } from 'node:crypto';
import type { RateDecision, RateLimit } from '@ragstream/limits';
import type { Chat, ParsedClientFrame, ResumeParams, ServerFrame } from '@ragstream/protocol';
import { errorFrame, parseClientFrame, parseClientFrameText, utf8Bytes } from '@ragstream/protocol';
import type { ChatSubscription, Presence, SubscriptionDeps } from '@ragstream/realtime';
import { ChatSubscription as Subscription } from '@ragstream/realtime';
import type { Logger } from '@ragstream/runtime';
import type { ChatStore } from '@ragstream/store';
import { ApiError, chatNotFound } from './api-error.ts';
import { actingUser, canUseChat } from './auth/access.ts';
import { onTokenExpiry } from './auth/expiry.ts';
import type { Principal } from './auth/principal.ts';
import type { ChatService } from './chat-service.ts';
import type { ConnectionRegistry } from './connection-registry.ts';
import type { Caller } from './limits/caller.ts';
import type { UserConnections } from './limits/user-connections.ts';
import { startTrace } from './message-trace.ts';
import type { ApiMetrics } from './metrics/api-metrics.ts';
import type { ConnectionMeter, TransportKind } from './metrics/connection-meter.ts';

/** How a ChatConnection reaches its client, whatever the transport. */
export interface ClientTransport {
  readonly kind: TransportKind;
  send(frame: ServerFrame): void;
  /**
   * Bytes written to this connection that the client has not taken yet and that the node
   * holds in memory (above what the kernel's socket buffers took).
   */
  bufferedBytes(): number;
  /**
   * Ends the client's connection; the client may reconnect (to any node) and resume. For
   * `slow_consumer` what is buffered is still sent if the client reads it within
   * SLOW_CONSUMER_CLOSE_GRACE_MS; then the connection is dropped.
   */
  disconnect(reason: DisconnectReason): void;
}

/**
 * `stream_interrupted`: the generation frames had a hole the log could not fill.
 * `slow_consumer`: the client stopped taking what was sent to it (MAX_BUFFERED_BYTES).
 * `abuse`: the client went far past a rate limit (its error frame was sent first).
 * `token_expired`: the connection's token expired; the client reconnects with a fresh one.
 */
export type DisconnectReason = 'shutting_down' | 'stream_interrupted' | 'slow_consumer' | 'abuse' | 'token_expired';

/** How long a slow consumer's connection may take to flush its backlog and close before it is dropped. */
export const SLOW_CONSUMER_CLOSE_GRACE_MS = 5_000;

export interface ConnectionDeps {
  store: ChatStore;
  service: ChatService;
  presence: Presence;
  subscriptions: SubscriptionDeps;
  connections: ConnectionRegistry;
  maxMessageBytes: number;
  /** Frames of one connection waiting to be handled; past it a frame gets `error` `busy` and is dropped. */
  maxInboundFrames: number;
  /** Bytes a connection may hold unsent to its client (beyond its replay's); past it, it is closed as a slow consumer. */
  maxBufferedBytes: number;
  logger: Logger;
  metrics: ApiMetrics;
  /** Inbound frames per second per connection (a connection lives on one node: counted there). */
  frames: RateLimit;
  userConnections: UserConnections;
}

/**
 * One client connection to one chat, whatever the transport: it counts towards
 * presence, receives the chat's generation frames (with resume), and turns inbound
 * frames into stored messages, answers and stops.
 */
export class ChatConnection {
  private subscription: ChatSubscription | undefined;
  private closed = false;
  private opening: Promise<void> = Promise.resolve();
  private closing: Promise<void> | undefined;
  private inbound: Promise<void> = Promise.resolve();
  /** Frames queued on `inbound` and not yet handled. */
  private inboundFrames = 0;
  /**
   * What the transport still buffered once the open's replay was written, lowered as the client
   * takes it; undefined while opening. A replay is written in one burst that no client could
   * have read yet, so only bytes beyond this backlog count against MAX_BUFFERED_BYTES.
   */
  private replayBacklog: number | undefined;
  /** Closed as a slow consumer: nothing more is written to it. */
  private overflowed = false;
  private cancelExpiry: () => void = () => undefined;
  private readonly meter: ConnectionMeter;
  /** Every line about this connection carries its chat and transport (and the node, bound at the root). */
  private readonly log: Logger;
  /** Names this connection in the frame rate limit. */
  private readonly id = randomUUID();
  private abused = false;

  private constructor(
    private readonly deps: ConnectionDeps,
    readonly chatId: string,
    /** The chat's organisation: whose limits and quotas its messages use. */
    private readonly organisationId: string,
    /** Whose connection this is, counted within CONNECTIONS_PER_USER. */
    private readonly userId: string,
    private readonly transport: ClientTransport,
    /** Undefined with authentication off: then a message's user is the `userId` it names. */
    private readonly principal: Principal | undefined,
    resuming: boolean,
  ) {
    this.meter = deps.metrics.openConnection(transport.kind, resuming);
    this.log = deps.logger.child({ chatId, transport: transport.kind });
  }

  /**
   * Throws ApiError('chat_not_found') for an unknown chat and for another user's,
   * ApiError('too_many_connections') past the user's limit. The user is the token's, else the
   * one the handshake names (`claimedUserId`), else the chat's owner. A connection whose token
   * expires is closed then (`token_expired`), after an `error` frame saying so.
   */
  static async open(
    deps: ConnectionDeps,
    chatId: string,
    resume: ResumeParams,
    principal: Principal | undefined,
    transport: ClientTransport,
    claimedUserId?: string,
  ): Promise<ChatConnection> {
    const chat: Chat | null = await deps.store.getChat(chatId);
    if (!chat || !canUseChat(principal, chat)) throw chatNotFound(chatId);
    const userId = principal?.userId ?? claimedUserId ?? chat.userId;
    await deps.userConnections.open(userId);
    const connection = new ChatConnection(
      deps,
      chatId,
      chat.organisationId,
      userId,
      transport,
      principal,
      resume.generationId !== undefined,
    );
    try {
      // Registered before the first await, so that a shutdown meanwhile waits for this open too.
      deps.connections.add(connection);
      connection.opening = connection.start(resume);
      await connection.opening;
    } catch (err) {
      deps.connections.delete(connection);
      connection.meter.close();
      await deps.userConnections
        .close(userId)
        .catch((error: unknown) => connection.log.warn('could not release a connection place', { err: error }));
      throw err;
    }
    connection.meter.live();
    connection.replayBacklog = transport.bufferedBytes();
    connection.cancelExpiry = onTokenExpiry(principal, () => {
      connection.log.info('token expired; closing the connection');
      void connection.disconnect('token_expired');
    });
    connection.log.debug('client connected', { resumeGenerationId: resume.generationId, lastSeq: resume.lastSeq });
    return connection;
  }

  private async start(resume: ResumeParams): Promise<void> {
    await this.deps.presence.connected(this.chatId);
    try {
      this.subscription = await Subscription.open(this.deps.subscriptions, this.chatId, resume, {
        send: (frame) => {
          if (!this.closed) this.send(frame);
        },
        fail: (err) => {
          this.log.error('frame stream interrupted; disconnecting the client so that it resumes', { err });
          void this.disconnect('stream_interrupted');
        },
        logger: this.log,
      });
    } catch (err) {
      await this.deps.presence.disconnected(this.chatId);
      throw err;
    }
  }

  /** Handles one JSON text frame. */
  handleText(text: string): Promise<void> {
    const receivedAt = performance.now();
    return this.enqueue(parseClientFrameText(text, this.deps.maxMessageBytes), receivedAt);
  }

  /** Handles one decoded inbound frame; every failure becomes an `error` frame and the connection stays open. */
  handle(input: unknown): Promise<void> {
    const receivedAt = performance.now();
    return this.enqueue(parseClientFrame(input, this.deps.maxMessageBytes), receivedAt);
  }

  /**
   * One frame at a time per connection, so that a client's messages are stored in the order it
   * sent them. Parsed on arrival, so that a waiting frame holds at most a message's worth of text,
   * and at most `maxInboundFrames` wait: past that a frame is answered `busy` at once and dropped
   * (nothing stored), and the connection stays usable.
   */
  private enqueue(parsed: ParsedClientFrame, receivedAt: number): Promise<void> {
    if (this.closed) return this.inbound;
    // Counted as it arrives, not when its turn comes, so that a flood is seen while it floods.
    const rate = this.deps.frames.take(this.id);
    void rate.then(
      (decision) => {
        if (!decision.allowed && decision.abusive) this.closeForAbuse(decision);
      },
      () => undefined,
    );
    if (this.inboundFrames >= this.deps.maxInboundFrames) {
      this.refuseBusy(parsed);
      return Promise.resolve();
    }
    this.inboundFrames += 1;
    this.inbound = this.inbound
      .then(async () => {
        // The limit lives in this process and cannot fail; were it to, the frame is not refused for it.
        const decision = await rate.catch((): RateDecision => ({ allowed: true }));
        if (decision.allowed) return this.dispatch(parsed, receivedAt);
        if (this.abused) return;
        this.send(framesRateLimited(decision).toFrame(clientMessageIdOf(parsed)));
      })
      .finally(() => {
        this.inboundFrames -= 1;
      });
    return this.inbound;
  }

  private refuseBusy(parsed: ParsedClientFrame): void {
    const clientMessageId = clientMessageIdOf(parsed);
    this.log.debug('frame refused: inbound queue full', { mt: parsed.ok ? parsed.frame.mt : undefined, clientMessageId });
    this.send(
      errorFrame(
        'busy',
        `${this.deps.maxInboundFrames} frames of this connection are still being handled; send this one again once they are answered`,
        clientMessageId,
      ),
    );
  }

  /** Far past the frame limit: one error frame that says so, then the connection ends. */
  private closeForAbuse(decision: Extract<RateDecision, { allowed: false }>): void {
    if (this.abused || this.closed) return;
    this.abused = true;
    this.log.warn('closing a connection far past its frame limit', { frames: decision.consumed, limit: decision.limit });
    this.send(framesRateLimited(decision).toFrame());
    void this.disconnect('abuse');
  }

  /** `receivedAt`: performance.now() when the frame arrived, before it waited behind earlier ones. */
  private async dispatch(parsed: ParsedClientFrame, receivedAt: number): Promise<void> {
    if (!parsed.ok) {
      this.send(parsed.error);
      return;
    }
    const frame = parsed.frame;
    const clientMessageId = frame.mt === 'message_upload' ? frame.clientMessageId : undefined;
    // The message's own logger once it has one, so that a failure shows in its trace.
    let log = this.log;
    try {
      if (frame.mt === 'stop') {
        const stopped = await this.deps.service.stop(this.chatId, receivedAt);
        log.info('stop requested', { stopped });
        return;
      }
      // Before anything is stored: the user is the token's, and a frame naming another is refused.
      const userId = actingUser(this.principal, frame.userId);
      if (userId === undefined) throw new ApiError('invalid_frame', 'userId: required');
      const trace = startTrace(this.log);
      log = trace.log;
      // Its size, never its text: messages are the users' own words.
      log.info('user message received', { bytes: utf8Bytes(frame.message), clientMessageId: frame.clientMessageId });
      const caller: Caller = { userId, organisationId: this.organisationId };
      const stored = await this.deps.service.storeUserMessage(
        this.chatId,
        { text: frame.message, clientMessageId: frame.clientMessageId },
        trace,
        { caller, answer: true },
      );
      log = stored.trace.log;
      const dispatch = await this.deps.service.admitAnswer(stored, {
        userId,
        timezone: frame.timezone,
        selectedLanguage: frame.selectedLanguage,
        receivedAt,
      });
      this.send({
        mt: 'message_upload_confirm',
        chatId: this.chatId,
        messageId: stored.message.id,
        generationId: stored.generationId,
        ...(frame.clientMessageId === undefined ? {} : { clientMessageId: frame.clientMessageId }),
        ...(stored.created ? {} : { duplicate: true }),
      });
      await dispatch?.();
    } catch (err) {
      if (err instanceof ApiError) {
        log.debug('frame refused', { mt: frame.mt, code: err.code });
        this.send(err.toFrame(clientMessageId));
        if (err.options.abusive && !this.abused) {
          this.abused = true;
          log.warn('closing a connection far past its message limit');
          void this.disconnect('abuse');
        }
        return;
      }
      log.error('frame handling failed', { mt: frame.mt, err });
      this.send(errorFrame('internal', 'the server could not handle this frame; try again', clientMessageId));
    }
  }

  /**
   * Writes a frame unless the client has stopped reading: with more than MAX_BUFFERED_BYTES
   * waiting for it, the frame is not written and the connection is closed (`slow_consumer`), so
   * that a stalled client cannot grow the node's memory. Every generation frame stays in the
   * log, for the client to resume from.
   */
  private send(frame: ServerFrame): void {
    if (this.overflowed) return;
    if (this.replayBacklog !== undefined) {
      const buffered = this.transport.bufferedBytes();
      if (buffered < this.replayBacklog) this.replayBacklog = buffered;
      if (buffered - this.replayBacklog > this.deps.maxBufferedBytes) {
        this.overflowed = true;
        this.log.warn('slow consumer: closing the connection', {
          bufferedBytes: buffered,
          replayBacklogBytes: this.replayBacklog,
          maxBufferedBytes: this.deps.maxBufferedBytes,
        });
        void this.disconnect('slow_consumer');
        return;
      }
    }
    this.write(frame);
  }

  private write(frame: ServerFrame): void {
    this.transport.send(frame);
    this.meter.sent(frame);
  }

  /**
   * Ends the client's connection and lets go of the chat; tells the client why first: on
   * shutdown so that it resumes elsewhere, as a slow consumer so that it resumes at all.
   */
  disconnect(reason: DisconnectReason): Promise<void> {
    if (!this.closed) {
      if (reason === 'shutting_down') this.send({ mt: 'server_shutdown', chatId: this.chatId });
      if (reason === 'token_expired') this.send(errorFrame('token_expired', 'token expired; reconnect with a fresh token and resume'));
      if (reason === 'slow_consumer') {
        this.write(
          errorFrame(
            'slow_consumer',
            `more than ${this.deps.maxBufferedBytes} bytes were waiting for this client; reconnect and resume from the last seq received`,
          ),
        );
      }
    }
    this.transport.disconnect(reason);
    return this.close();
  }

  /**
   * Lets go of the chat once the open and the inbound frames in progress have settled.
   * Idempotent; never rejects: a failure is logged here, since no caller could do more.
   */
  close(): Promise<void> {
    this.closing ??= this.release();
    return this.closing;
  }

  private async release(): Promise<void> {
    this.closed = true;
    this.cancelExpiry();
    const [opened] = await Promise.allSettled([this.opening, this.inbound]);
    // A failed open cleaned up after itself, and its caller reported the failure.
    if (opened.status === 'rejected') return;
    const results = await Promise.allSettled([
      this.subscription?.close(),
      this.deps.presence.disconnected(this.chatId),
      this.deps.userConnections.close(this.userId),
    ]);
    for (const result of results) {
      if (result.status === 'rejected') this.log.warn('closing a chat connection failed', { err: result.reason });
    }
    this.deps.connections.delete(this);
    this.meter.close();
    this.log.debug('client disconnected');
  }
}

function framesRateLimited(decision: Extract<RateDecision, { allowed: false }>): ApiError {
  return new ApiError('rate_limited', `too many frames: the limit is ${decision.limit} per second per connection`, {
    retryAfter: decision.retryAfterSeconds,
    abusive: decision.abusive,
  });
}

function clientMessageIdOf(parsed: ParsedClientFrame): string | undefined {
  if (!parsed.ok) return parsed.error.clientMessageId;
  return parsed.frame.mt === 'message_upload' ? parsed.frame.clientMessageId : undefined;
}
