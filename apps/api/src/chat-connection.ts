import type { ParsedClientFrame, ResumeParams, ServerFrame } from '@ragstream/protocol';
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
import { startTrace } from './message-trace.ts';
import type { ApiMetrics } from './metrics/api-metrics.ts';
import type { ConnectionMeter, TransportKind } from './metrics/connection-meter.ts';

/** How a ChatConnection reaches its client, whatever the transport. */
export interface ClientTransport {
  readonly kind: TransportKind;
  send(frame: ServerFrame): void;
  /** Ends the client's connection; the client may reconnect (to any node) and resume. */
  disconnect(reason: DisconnectReason): void;
}

/**
 * `stream_interrupted`: the generation frames had a hole the log could not fill.
 * `token_expired`: the connection's token expired; the client reconnects with a fresh one.
 */
export type DisconnectReason = 'shutting_down' | 'stream_interrupted' | 'token_expired';

export interface ConnectionDeps {
  store: ChatStore;
  service: ChatService;
  presence: Presence;
  subscriptions: SubscriptionDeps;
  connections: ConnectionRegistry;
  maxMessageBytes: number;
  logger: Logger;
  metrics: ApiMetrics;
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
  private cancelExpiry: () => void = () => undefined;
  private readonly meter: ConnectionMeter;
  /** Every line about this connection carries its chat and transport (and the node, bound at the root). */
  private readonly log: Logger;

  private constructor(
    private readonly deps: ConnectionDeps,
    readonly chatId: string,
    private readonly transport: ClientTransport,
    /** Undefined with authentication off: then a message's user is the `userId` it names. */
    private readonly principal: Principal | undefined,
    resuming: boolean,
  ) {
    this.meter = deps.metrics.openConnection(transport.kind, resuming);
    this.log = deps.logger.child({ chatId, transport: transport.kind });
  }

  /**
   * Throws ApiError('chat_not_found') for an unknown chat and for another user's. A connection
   * whose token expires is closed then (`token_expired`), after an `error` frame saying so.
   */
  static async open(
    deps: ConnectionDeps,
    chatId: string,
    resume: ResumeParams,
    principal: Principal | undefined,
    transport: ClientTransport,
  ): Promise<ChatConnection> {
    const chat = await deps.store.getChat(chatId);
    if (!chat || !canUseChat(principal, chat)) throw chatNotFound(chatId);
    const connection = new ChatConnection(deps, chatId, transport, principal, resume.generationId !== undefined);
    try {
      // Registered before the first await, so that a shutdown meanwhile waits for this open too.
      deps.connections.add(connection);
      connection.opening = connection.start(resume);
      await connection.opening;
    } catch (err) {
      deps.connections.delete(connection);
      connection.meter.close();
      throw err;
    }
    connection.meter.live();
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
    return this.enqueue(() => parseClientFrameText(text, this.deps.maxMessageBytes), receivedAt);
  }

  /** Handles one decoded inbound frame; every failure becomes an `error` frame and the connection stays open. */
  handle(input: unknown): Promise<void> {
    const receivedAt = performance.now();
    return this.enqueue(() => parseClientFrame(input, this.deps.maxMessageBytes), receivedAt);
  }

  /** One frame at a time per connection, so that a client's messages are stored in the order it sent them. */
  private enqueue(parse: () => ParsedClientFrame, receivedAt: number): Promise<void> {
    if (this.closed) return this.inbound;
    this.inbound = this.inbound.then(() => this.dispatch(parse(), receivedAt));
    return this.inbound;
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
      const stored = await this.deps.service.storeUserMessage(
        this.chatId,
        { text: frame.message, clientMessageId: frame.clientMessageId },
        trace,
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
        return;
      }
      log.error('frame handling failed', { mt: frame.mt, err });
      this.send(errorFrame('internal', 'the server could not handle this frame; try again', clientMessageId));
    }
  }

  private send(frame: ServerFrame): void {
    this.transport.send(frame);
    this.meter.sent(frame);
  }

  /** Ends the client's connection and lets go of the chat; on shutdown, tells the client first so that it resumes elsewhere. */
  disconnect(reason: DisconnectReason): Promise<void> {
    if (reason === 'shutting_down' && !this.closed) this.send({ mt: 'server_shutdown', chatId: this.chatId });
    if (reason === 'token_expired' && !this.closed)
      this.send(errorFrame('token_expired', 'token expired; reconnect with a fresh token and resume'));
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
    const results = await Promise.allSettled([this.subscription?.close(), this.deps.presence.disconnected(this.chatId)]);
    for (const result of results) {
      if (result.status === 'rejected') this.log.warn('closing a chat connection failed', { err: result.reason });
    }
    this.deps.connections.delete(this);
    this.meter.close();
    this.log.debug('client disconnected');
  }
}
