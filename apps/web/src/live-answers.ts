import type { AnswerStage, ServerFrame } from '@ragstream/protocol';

/** An answer being streamed: what is on screen, and the resume point that matches it. */
export interface LiveAnswer {
  generationId: string;
  attempt: number;
  lastSeq: number;
  text: string;
  stage?: AnswerStage;
  replyTo?: string;
}

/** What a frame changed, for the view. */
export type FrameEffect =
  | { kind: 'none' }
  | { kind: 'live'; answer: LiveAnswer }
  | { kind: 'ended'; generationId: string }
  | { kind: 'reload'; generationId: string };

const storageKey = (chatId: string): string => `ragstream.live.${chatId}`;

/**
 * The answers in progress of one chat. The latest one is kept in sessionStorage (per tab)
 * so that a reload shows the text it had and resumes after its `lastSeq`.
 */
export class LiveAnswers {
  private readonly answers = new Map<string, LiveAnswer>();

  constructor(
    private readonly chatId: string,
    private readonly storage: Storage = sessionStorage,
  ) {
    const saved = storage.getItem(storageKey(chatId));
    if (saved) {
      const answer = JSON.parse(saved) as LiveAnswer;
      this.answers.set(answer.generationId, answer);
    }
  }

  list(): LiveAnswer[] {
    return [...this.answers.values()];
  }

  /** The answer to resume on (re)connect: the one streaming, else none (live delivery follows new ones). */
  resumePoint(): { generationId: string; lastSeq: number } | undefined {
    const latest = this.list().at(-1);
    return latest ? { generationId: latest.generationId, lastSeq: latest.lastSeq } : undefined;
  }

  drop(generationId: string): void {
    this.answers.delete(generationId);
    this.persist();
  }

  apply(frame: ServerFrame): FrameEffect {
    if (frame.mt === 'resume_unavailable') {
      this.drop(frame.generationId);
      return { kind: 'reload', generationId: frame.generationId };
    }
    if (frame.mt !== 'typing_indicator' && frame.mt !== 'chat_message_bot_status' && frame.mt !== 'chat_message_bot_partial') {
      if (frame.mt === 'chat_message_bot_complete') {
        this.drop(frame.generationId);
        return { kind: 'ended', generationId: frame.generationId };
      }
      return { kind: 'none' };
    }
    let answer = this.answers.get(frame.generationId);
    if (answer && frame.seq <= answer.lastSeq) return { kind: 'none' };
    if (!answer || frame.attempt > answer.attempt) {
      // A new attempt starts over: the text of an earlier attempt is dropped.
      answer = { generationId: frame.generationId, attempt: frame.attempt, lastSeq: 0, text: '', replyTo: answer?.replyTo };
      this.answers.set(frame.generationId, answer);
    }
    answer.lastSeq = frame.seq;
    if (frame.mt === 'typing_indicator') answer.replyTo = frame.replyTo;
    else if (frame.mt === 'chat_message_bot_status') answer.stage = frame.stage;
    else answer.text += frame.delta;
    this.persist();
    return { kind: 'live', answer };
  }

  private persist(): void {
    const latest = this.list().at(-1);
    if (latest) this.storage.setItem(storageKey(this.chatId), JSON.stringify(latest));
    else this.storage.removeItem(storageKey(this.chatId));
  }
}
