import type { GenerateJobData, RedisKeys } from '@ragstream/protocol';
import { GENERATE_JOB_NAME, GENERATE_QUEUE, generateJobSchema } from '@ragstream/protocol';
import { Queue } from 'bullmq';
import type { JobsOptions, JobState } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ChatFifo } from './chat-fifo.ts';

/** Retries cover model or network errors; a crashed worker's job comes back through stall detection instead. */
export const GENERATION_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
};

export type GenerationJobState = JobState | 'unknown';

export class GenerationQueue {
  readonly queue: Queue<GenerateJobData>;

  constructor(
    connection: Redis,
    keys: RedisKeys,
    private readonly fifo: ChatFifo,
  ) {
    this.queue = new Queue<GenerateJobData>(GENERATE_QUEUE, { connection, prefix: keys.bullPrefix });
  }

  /** Idempotent: the job id is the generation id, and BullMQ ignores a second add of a job that exists. */
  async enqueue(data: GenerateJobData): Promise<void> {
    const payload = generateJobSchema.parse(data);
    await this.fifo.push(payload.chatId, payload.generationId);
    await this.queue.add(GENERATE_JOB_NAME, payload, { ...GENERATION_JOB_OPTIONS, jobId: payload.generationId });
  }

  state(generationId: string): Promise<GenerationJobState> {
    return this.queue.getJobState(generationId);
  }

  /** Lets a job that waits for its turn run now. */
  async promote(generationId: string): Promise<void> {
    const job = await this.queue.getJob(generationId);
    if (!job || !(await job.isDelayed())) return;
    // It may have been promoted or removed in between; either way it is no longer waiting on us.
    await job.promote().catch(() => undefined);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
