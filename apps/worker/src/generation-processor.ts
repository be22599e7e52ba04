import { setTimeout as sleep } from 'node:timers/promises';
import type { AnswerEnd, Begin, GenerationLifecycle } from '@ragstream/lifecycle';
import { generationLogFields } from '@ragstream/lifecycle';
import type { QuotaOwner, TokenUsage } from '@ragstream/limits';
import type { BotStatus, GenerateJobData, Source } from '@ragstream/protocol';
import { generateJobSchema } from '@ragstream/protocol';
import type { Responder } from '@ragstream/rag';
import { isLlmError } from '@ragstream/rag';
import type { FrameLog, StreamEnd } from '@ragstream/realtime';
import { GenerationStream } from '@ragstream/realtime';
import type { Logger } from '@ragstream/runtime';
import type { Job } from 'bullmq';
import { DelayedError, WaitingError } from 'bullmq';
import { AbandonWatch } from './abandon-watch.ts';
import { AttemptUsage } from './attempt-usage.ts';
import type { GenerationJobOutcome, WorkerMetrics } from './worker-metrics.ts';
import { secondsSince } from './worker-metrics.ts';

/** How long a job that is not its chat's turn waits before it looks again; normally it is promoted sooner. */
const TURN_RECHECK_MS = 5_000;

export interface ProcessorDeps {
  log: FrameLog;
  lifecycle: GenerationLifecycle;
  responder: Responder;
  countConnections: (chatId: string) => Promise<number>;
  flushWindowMs: number;
  abandonAfterMs: number;
  /** Chaos suite only: pause between the last token and the terminal frame. */
  pauseBeforeFinishMs: number;
  logger: Logger;
  metrics: WorkerMetrics;
  /** Where each attempt's model tokens are counted against the token quotas. */
  tokens: { record(owner: QuotaOwner, usage: TokenUsage): Promise<void> };
}

export type ProcessOutcome = BotStatus | 'superseded' | 'already-finished';

/** Thrown so that BullMQ retries the job: the next attempt starts the answer over, visibly to clients. */
class RetryableAttemptError extends Error {
  override readonly name = 'RetryableAttemptError';
}

/** The abort reason of an attempt that the shutting-down worker hands back to the queue. */
class HandBackSignal extends Error {
  override readonly name = 'HandBackSignal';
}

/** Runs one attempt of one generation job; every state change goes through the lifecycle. */
export class GenerationProcessor {
  /** The running attempts' abort controllers, so that a shutdown can hand them back. */
  private readonly running = new Set<AbortController>();

  constructor(private readonly deps: ProcessorDeps) {}

  /**
   * Shutdown, once the grace period is over: aborts every running attempt without
   * finishing it and moves its job back to waiting, so that another worker starts a
   * new attempt at once instead of after the stalled-job check. Returns how many.
   */
  handBackAll(): number {
    for (const controller of this.running) controller.abort(new HandBackSignal('the worker is shutting down'));
    return this.running.size;
  }

  /** Declared with three parameters: BullMQ passes the cancellation signal only to such processors. */
  readonly process = async (job: Job<GenerateJobData>, token?: string, signal?: AbortSignal): Promise<ProcessOutcome> => {
    const startedAt = performance.now();
    try {
      const outcome = await this.run(job, token, signal);
      this.deps.metrics.generationJobEnded(outcome === 'already-finished' ? 'already_finished' : outcome, secondsSince(startedAt));
      return outcome;
    } catch (err) {
      // A job that waits for its chat's turn has not run yet; it is timed when it does.
      if (err instanceof WaitingError) this.deps.metrics.generationJobEnded('handed_back', secondsSince(startedAt));
      else if (!(err instanceof DelayedError)) this.deps.metrics.generationJobEnded(thrownOutcome(job), secondsSince(startedAt));
      throw err;
    }
  };

  private async run(job: Job<GenerateJobData>, token: string | undefined, signal: AbortSignal | undefined): Promise<ProcessOutcome> {
    const data = generateJobSchema.parse(job.data);
    const { lifecycle } = this.deps;
    const { chatId, generationId } = data;
    // One logger per job: every line about it carries its ids and the message's traceId.
    const log = this.deps.logger.child({ jobId: job.id, ...generationLogFields(data) });
    log.info('generation job started', { bullAttempt: job.attemptsMade + 1, queuedMs: Date.now() - data.enqueuedAt });

    // Its state may have expired long after the answer was stored: never answer twice.
    if (await lifecycle.isStored(generationId)) {
      log.info('answer stored before; completing the job');
      await lifecycle.complete(chatId, generationId, data.enqueuedAt, log);
      return 'already-finished';
    }
    const begin = await this.waitForTurn(job, data, token, log);
    if (begin.kind === 'finished') {
      // An earlier attempt finished and its process died before storing the answer.
      log.info('an earlier attempt finished; storing its answer');
      await lifecycle.complete(chatId, generationId, data.enqueuedAt, log);
      return 'already-finished';
    }
    this.deps.metrics.attemptStarted(begin.attempt, job.timestamp);
    const attemptLog = log.child({ attempt: begin.attempt });
    attemptLog.info('attempt started');
    return this.generate(job, data, begin.attempt, token, signal, attemptLog);
  }

  private async generate(
    job: Job<GenerateJobData>,
    data: GenerateJobData,
    attempt: number,
    token: string | undefined,
    signal: AbortSignal | undefined,
    log: Logger,
  ): Promise<ProcessOutcome> {
    const { chatId, generationId } = data;
    const controller = new AbortController();
    const onAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    if (signal?.aborted) onAbort();
    this.running.add(controller);

    const stream = new GenerationStream(this.deps.log, { chatId, generationId, attempt }, this.deps.flushWindowMs, (end) =>
      controller.abort(new Error(`attempt ${attempt} ended: ${end.reason}`)),
    );
    const watch = new AbandonWatch(chatId, this.deps.abandonAfterMs, this.deps.countConnections, log, async () => {
      log.info('no client connected; abandoning answer');
      await this.deps.lifecycle.stop(chatId, [generationId]);
    });
    stream.typing(data.userMessageId);
    watch.start();

    const end: AnswerEnd = { status: 'complete', text: '', sources: [] };
    const usage = new AttemptUsage();
    let failure: unknown;
    try {
      let sources: Source[] = [];
      for await (const event of this.deps.responder.respond(toRequest(data), controller.signal, usage.add)) {
        // Deltas are never logged: they are the token loop.
        if (event.type === 'delta') stream.push(event.text);
        else if (event.type === 'sources') {
          sources = event.sources;
          log.debug('passages retrieved', { sources: sources.length });
        } else if (event.type === 'status') {
          // `searching` is retrieval, `generating` the model call.
          log.debug('pipeline stage', { stage: event.stage, language: event.language });
          stream.status(event.stage, event.language);
        } else Object.assign(end, { grounded: event.grounded, language: event.language });
      }
      end.sources = sources;
      if (this.deps.pauseBeforeFinishMs > 0) {
        log.info('pausing before finish');
        await sleep(this.deps.pauseBeforeFinishMs);
      }
    } catch (err) {
      failure = err;
    } finally {
      watch.stop();
      signal?.removeEventListener('abort', onAbort);
      this.running.delete(controller);
    }

    if (signal?.aborted) stream.discardPending();
    const streamEnd = await stream.drain();
    end.text = stream.text;
    // Every attempt counts, whatever its end: the model was asked. Sent after the finish script
    // where there is one, so that its writes never queue ahead of it, and awaited last.
    let counted: Promise<void> | undefined;
    const count = (): Promise<void> => {
      counted ??= this.countTokens(data, usage.total(data.text, stream.text), log);
      return counted;
    };
    try {
      // Whether or not the responder noticed the abort, its text is incomplete: another worker runs it again.
      const handedBack = controller.signal.reason instanceof HandBackSignal;
      const verdict = this.judge(job, streamEnd, controller.signal.aborted && signal?.aborted === true, failure, handedBack);
      if (verdict.kind === 'superseded') {
        log.warn('attempt superseded; it stops without writing', { reason: verdict.reason });
        return 'superseded';
      }
      if (verdict.kind === 'hand-back') {
        // Not finished: the next worker's attempt supersedes this one (the fence) and clients see it start over.
        log.info('handing the attempt back to the queue; another worker runs the answer again');
        if (token === undefined) throw new Error(`job ${job.id}: no lock token to move it back to waiting`);
        await job.moveToWait(token);
        throw new WaitingError();
      }
      if (verdict.kind === 'retry') {
        log.warn('attempt failed; the job will be retried', { err: verdict.error });
        throw new RetryableAttemptError(verdict.error.message, { cause: verdict.error });
      }
      end.status = verdict.status;
      if (verdict.status === 'failed') {
        end.error = verdict.error;
        log.error('generation failed', { error: verdict.error });
      }
      const finishing = this.deps.lifecycle.finish({ chatId, generationId, attempt }, end, data.enqueuedAt, log);
      void count();
      const outcome = await finishing;
      if (outcome.kind === 'superseded') {
        log.warn('attempt superseded at its end; nothing stored by it', { reason: outcome.reason });
        return 'superseded';
      }
      return outcome.status;
    } finally {
      await count();
    }
  }

  private async countTokens(data: GenerateJobData, usage: TokenUsage, log: Logger): Promise<void> {
    try {
      await this.deps.tokens.record({ userId: data.userId, organisationId: data.organisationId }, usage);
      log.debug('tokens counted', { ...usage });
    } catch (err) {
      log.warn('could not count the attempt’s tokens against the quotas', { err, ...usage });
    }
  }

  /** How an attempt ends, from what stopped it; a stop wins over a hand-back, which would only run it again. */
  private judge(
    job: Job<GenerateJobData>,
    streamEnd: StreamEnd | undefined,
    cancelledByStop: boolean,
    failure: unknown,
    handedBack: boolean,
  ): Verdict {
    if (streamEnd?.reason === 'fenced' || streamEnd?.reason === 'done') return { kind: 'superseded', reason: streamEnd.reason };
    // Redis failed under the attempt: clients may have missed frames, so the next attempt starts over.
    if (streamEnd?.reason === 'failed') return this.retryOrFail(job, streamEnd.error);
    if (streamEnd?.reason === 'cancelled' || cancelledByStop) return { kind: 'end', status: 'stopped' };
    if (handedBack) return { kind: 'hand-back' };
    if (failure === undefined) return { kind: 'end', status: 'complete' };
    const error = failure instanceof Error ? failure : new Error(String(failure));
    if (isLlmError(failure) && !failure.retryable) return { kind: 'end', status: 'failed', error: error.message };
    return this.retryOrFail(job, error);
  }

  private retryOrFail(job: Job<GenerateJobData>, error: Error): Verdict {
    if (job.attemptsMade + 1 < (job.opts.attempts ?? 1)) return { kind: 'retry', error };
    return { kind: 'end', status: 'failed', error: error.message };
  }

  /** One answer per chat at a time, in order: a job that is not its chat's turn waits (delayed) until promoted. */
  private async waitForTurn(
    job: Job<GenerateJobData>,
    data: GenerateJobData,
    token: string | undefined,
    log: Logger,
  ): Promise<Exclude<Begin, { kind: 'wait' }>> {
    const { lifecycle } = this.deps;
    for (;;) {
      const begin = await lifecycle.begin(data);
      if (begin.kind !== 'wait') return begin;
      log.debug('not its chat’s turn; waiting', { head: begin.head });
      if ((await lifecycle.checkHead(data.chatId, begin.head)) === 'ended') continue;
      await job.moveToDelayed(Date.now() + TURN_RECHECK_MS, token);
      await lifecycle.promoteIfHead(data.chatId, data.generationId);
      throw new DelayedError();
    }
  }
}

type Verdict =
  | { kind: 'superseded'; reason: 'fenced' | 'done' }
  | { kind: 'retry'; error: Error }
  | { kind: 'hand-back' }
  | { kind: 'end'; status: 'complete' | 'stopped' }
  | { kind: 'end'; status: 'failed'; error: string };

/** BullMQ runs a job that threw again while it has attempts left. */
function thrownOutcome(job: Job<GenerateJobData>): GenerationJobOutcome {
  return job.attemptsMade + 1 < (job.opts.attempts ?? 1) ? 'retry' : 'failed';
}

function toRequest(data: GenerateJobData) {
  return {
    chatId: data.chatId,
    organisationId: data.organisationId,
    userId: data.userId,
    userMessageId: data.userMessageId,
    text: data.text,
    selectedLanguage: data.selectedLanguage,
    timezone: data.timezone,
  };
}
