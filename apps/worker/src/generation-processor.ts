import type { BotStatus, GenerateJobData, Source } from '@ragstream/protocol';
import { generateJobSchema } from '@ragstream/protocol';
import type { Responder } from '@ragstream/rag';
import type { ChatFifo, ChatStopper, FrameLog, GenerationFinalizer, GenerationQueue } from '@ragstream/realtime';
import { GenerationStream } from '@ragstream/realtime';
import type { TerminalExtras } from '@ragstream/realtime';
import type { Logger } from '@ragstream/runtime';
import type { ChatStore } from '@ragstream/store';
import { DelayedError } from 'bullmq';
import type { Job } from 'bullmq';
import { AbandonWatch } from './abandon-watch.ts';

/** How long a job that is not its chat's turn waits before it looks again; normally it is promoted sooner. */
const TURN_RECHECK_MS = 5_000;

export interface ProcessorDeps {
  store: ChatStore;
  log: FrameLog;
  fifo: ChatFifo;
  queue: GenerationQueue;
  finalizer: GenerationFinalizer;
  stopper: ChatStopper;
  responder: Responder;
  countConnections: (chatId: string) => Promise<number>;
  flushWindowMs: number;
  abandonAfterMs: number;
  logger: Logger;
}

export type ProcessOutcome = BotStatus | 'superseded' | 'already-finished';

/** Runs one attempt of one generation job. */
export class GenerationProcessor {
  constructor(private readonly deps: ProcessorDeps) {}

  /** Declared with three parameters: BullMQ passes the cancellation signal only to such processors. */
  readonly process = async (job: Job<GenerateJobData>, token?: string, signal?: AbortSignal): Promise<ProcessOutcome> => {
    const data = generateJobSchema.parse(job.data);
    await this.waitForTurn(job, data, token);
    const { store, log, finalizer } = this.deps;
    const { chatId, generationId } = data;

    const stored = await store.findBotMessageByGeneration(generationId);
    if (stored) {
      // An earlier attempt stored the answer and died before it said so.
      await finalizer.finalizeUnrun(chatId, generationId, stored.status ?? 'complete', data.enqueuedAt);
      return 'already-finished';
    }
    const start = await log.startAttempt(generationId, chatId);
    if (start.kind === 'done') {
      await finalizer.advance(chatId, generationId);
      return 'already-finished';
    }
    if (start.kind === 'cancelled') {
      await finalizer.finalizeUnrun(chatId, generationId, 'stopped', data.enqueuedAt);
      return 'stopped';
    }
    return this.generate(job, data, start.attempt, signal);
  };

  private async generate(
    job: Job<GenerateJobData>,
    data: GenerateJobData,
    attempt: number,
    signal: AbortSignal | undefined,
  ): Promise<ProcessOutcome> {
    const { chatId, generationId } = data;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();

    const stream = new GenerationStream(this.deps.log, { chatId, generationId, attempt }, this.deps.flushWindowMs, (reason) =>
      controller.abort(new Error(`attempt ${attempt} superseded (${reason})`)),
    );
    const watch = new AbandonWatch(chatId, this.deps.abandonAfterMs, this.deps.countConnections, async () => {
      this.deps.logger.info('no client connected; abandoning answer', { chatId, generationId });
      await this.deps.stopper.stop(chatId);
    });
    stream.typing(data.userMessageId);
    watch.start();

    let status: BotStatus = 'complete';
    let sources: Source[] = [];
    const extras: TerminalExtras = {};
    try {
      const request = {
        chatId,
        organisationId: data.organisationId,
        userId: data.userId,
        userMessageId: data.userMessageId,
        text: data.text,
        selectedLanguage: data.selectedLanguage,
        timezone: data.timezone,
      };
      for await (const event of this.deps.responder.respond(request, controller.signal)) {
        if (event.type === 'delta') stream.push(event.text);
        else if (event.type === 'sources') sources = event.sources;
        else if (event.type === 'status') stream.status(event.stage, event.language);
        else Object.assign(extras, { grounded: event.grounded, language: event.language });
      }
    } catch (err) {
      if (stream.lostReason) return 'superseded';
      if (controller.signal.aborted) {
        status = 'stopped';
      } else if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) {
        // BullMQ runs it again; the next attempt's first frame tells clients to drop this text.
        await stream.drain().catch(() => undefined);
        throw err;
      } else {
        status = 'failed';
        extras.error = err instanceof Error ? err.message : String(err);
        this.deps.logger.error('generation failed', { chatId, generationId, attempt, err });
      }
    } finally {
      watch.stop();
      signal?.removeEventListener('abort', onAbort);
    }

    await stream.drain();
    if (stream.lostReason) return 'superseded';
    const message = await this.deps.finalizer.saveAnswer({ chatId, generationId, text: stream.text, status, sources, grounded: extras.grounded, askedAt: data.enqueuedAt });
    await stream.finish(status, message.id, sources, extras);
    await this.deps.finalizer.advance(chatId, generationId);
    return status;
  }

  /** One answer per chat at a time, in order: a job that is not at the head of its chat waits (delayed). */
  private async waitForTurn(job: Job<GenerateJobData>, data: GenerateJobData, token: string | undefined): Promise<void> {
    for (;;) {
      const head = await this.deps.fifo.head(data.chatId);
      if (head === undefined || head === data.generationId) return;
      const state = await this.deps.queue.state(head);
      if (state === 'unknown' || state === 'completed' || state === 'failed') {
        // The head's job ended without handing over (its process died in between).
        await this.deps.finalizer.finalizeUnrun(data.chatId, head, 'failed');
        continue;
      }
      await job.moveToDelayed(Date.now() + TURN_RECHECK_MS, token);
      // The head may have ended between the check and the move, promoting nothing: look once more.
      if ((await this.deps.fifo.head(data.chatId)) === data.generationId) await job.promote().catch(() => undefined);
      throw new DelayedError();
    }
  }
}
