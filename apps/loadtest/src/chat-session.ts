import type { ErrorFrame, ServerFrame } from '@ragstream/protocol';
import { AnswerTracker } from './answer-tracker.ts';
import type { ChatSocket, SocketEvents, Transport } from './chat-socket.ts';
import { openChatSocket } from './chat-socket.ts';
import { Deferred, within } from './deferred.ts';

let nextClientMessageId = 0;

interface PendingUpload {
  sentAt: number;
  confirmed: Deferred<AnswerTracker>;
}

/** One client connection to one chat: sends messages and stops, tracks every generation it sees. */
export class ChatSession {
  readonly answers = new Map<string, AnswerTracker>();
  readonly errors: ErrorFrame[] = [];
  /** Breaches that belong to no single generation: invalid frames, unexpected confirms. */
  readonly violations: string[] = [];
  frames = 0;
  lost: string | undefined;
  /** Times this client dropped its connection on purpose and resumed, maybe on another node. */
  reconnects = 0;
  private socket: ChatSocket | undefined;
  private readonly pending = new Map<string, PendingUpload>();

  private constructor(
    readonly chatId: string,
    /** The node it is connected to now. */
    public baseUrl: string,
    readonly transport: Transport,
  ) {}

  static async open(transport: Transport, baseUrl: string, chatId: string, timeoutMs = 10_000): Promise<ChatSession> {
    const session = new ChatSession(chatId, baseUrl, transport);
    session.socket = await openChatSocket(transport, baseUrl, chatId, session.events(), timeoutMs);
    return session;
  }

  /**
   * Drops the connection, as a refreshed page or a lost network does, and resumes on `baseUrl`
   * from the last seq received of `generationId`: the answer must go on with no gap or duplicate.
   */
  async reconnect(baseUrl: string, generationId: string, timeoutMs = 10_000): Promise<void> {
    const old = this.socket;
    this.socket = undefined;
    await old?.close();
    // Read after the old connection closed: frames it delivered meanwhile count.
    const lastSeq = this.answers.get(generationId)?.seq ?? 0;
    this.socket = await openChatSocket(this.transport, baseUrl, this.chatId, this.events(), timeoutMs, { generationId, lastSeq });
    this.baseUrl = baseUrl;
    this.reconnects += 1;
  }

  private events(): SocketEvents {
    return {
      frame: (frame, at) => this.onFrame(frame, at),
      invalid: (raw, reason) => {
        this.frames += 1;
        this.violations.push(`invalid frame (${reason}): ${JSON.stringify(raw).slice(0, 200)}`);
      },
      lost: (reason) => this.onLost(reason),
    };
  }

  /** Sends a message; resolves with its generation once the server confirms it. */
  ask(message: string, userId: string, timeoutMs = 10_000): Promise<AnswerTracker> {
    if (this.lost) return Promise.reject(new Error(`chat ${this.chatId}: ${this.lost}`));
    nextClientMessageId += 1;
    const clientMessageId = `lt-${process.pid}-${nextClientMessageId}`;
    const upload: PendingUpload = { sentAt: performance.now(), confirmed: new Deferred() };
    this.pending.set(clientMessageId, upload);
    this.socket?.send({ mt: 'message_upload', message, userId, clientMessageId, timezone: 'UTC', selectedLanguage: 'en' });
    return within(upload.confirmed.promise, timeoutMs, `confirm of ${clientMessageId}`).finally(() => this.pending.delete(clientMessageId));
  }

  /** Sends `{mt:'stop'}` and returns the time it was sent. */
  stop(): number {
    const at = performance.now();
    this.socket?.send({ mt: 'stop' });
    return at;
  }

  /** Every generation-level and session-level violation seen so far. */
  allViolations(): string[] {
    return [...this.violations, ...[...this.answers.values()].flatMap((answer) => answer.violations)];
  }

  async close(): Promise<void> {
    await this.socket?.close();
  }

  private tracker(generationId: string): AnswerTracker {
    let tracker = this.answers.get(generationId);
    if (!tracker) {
      tracker = new AnswerTracker(generationId);
      this.answers.set(generationId, tracker);
    }
    return tracker;
  }

  private onFrame(frame: ServerFrame, at: number): void {
    this.frames += 1;
    switch (frame.mt) {
      case 'message_upload_confirm': {
        const upload = frame.clientMessageId === undefined ? undefined : this.pending.get(frame.clientMessageId);
        if (!upload || frame.generationId === undefined) {
          this.violations.push(`unexpected confirm ${JSON.stringify(frame)}`);
          return;
        }
        const tracker = this.tracker(frame.generationId);
        tracker.sentAt = upload.sentAt;
        tracker.confirmedAt = at;
        upload.confirmed.resolve(tracker);
        return;
      }
      case 'error': {
        this.errors.push(frame);
        const upload = frame.clientMessageId === undefined ? undefined : this.pending.get(frame.clientMessageId);
        upload?.confirmed.reject(new Error(`${frame.code}: ${frame.message}`));
        return;
      }
      case 'resume_unavailable':
        // The load generator resumes only answers it saw start, within the log's lifetime.
        this.violations.push(`resume unavailable ${JSON.stringify(frame)}`);
        return;
      case 'server_shutdown':
        // The connection ends next; onLost reports it.
        return;
      default:
        this.tracker(frame.generationId).add(frame, at);
    }
  }

  private onLost(reason: string): void {
    this.lost = reason;
    for (const upload of this.pending.values()) upload.confirmed.reject(new Error(`chat ${this.chatId}: ${reason}`));
    for (const answer of this.answers.values()) if (!answer.terminal) answer.abandon(reason);
  }
}
