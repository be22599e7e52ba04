import type { GenerateJobData, RedisKeys } from '@ragstream/protocol';
import { GENERATE_JOB_NAME, GENERATE_QUEUE, generateJobSchema } from '@ragstream/protocol';
import type { RedisClient } from '@ragstream/realtime';
import type { Logger } from '@ragstream/runtime';
import type { Job, JobState, JobsOptions } from 'bullmq';
import { Queue } from 'bullmq';

/**
 * Retries cover model or network errors that may pass (each retry is a new attempt that
 * clients see); errors that cannot succeed end the answer at once. A crashed worker's
 * job comes back through stall detection instead.
 */
export const GENERATION_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 500 },
  removeOnComplete: { age: 3600, count: 10_000 },
  removeOnFail: { age: 24 * 3600 },
};

export type GenerationJobState = JobState | 'unknown';

/** States in which a job will still run (or runs now). */
export const LIVE_JOB_STATES: ReadonlySet<GenerationJobState> = new Set([
  'active',
  'waiting',
  'delayed',
  'prioritized',
  'waiting-children',
]);

/** The BullMQ side of generations; only the lifecycle (and its processor) use it. */
export class GenerationQueue {
  readonly queue: Queue<GenerateJobData>;

  constructor(
    connection: RedisClient,
    keys: RedisKeys,
    private readonly logger: Logger,
  ) {
    this.queue = new Queue<GenerateJobData>(GENERATE_QUEUE, { connection, prefix: keys.bullPrefix });
  }

  /** Idempotent: the job id is the generation id, and BullMQ ignores a second add of a job that exists. */
  async add(data: GenerateJobData): Promise<void> {
    const payload = generateJobSchema.parse(data);
    await this.queue.add(GENERATE_JOB_NAME, payload, { ...GENERATION_JOB_OPTIONS, jobId: payload.generationId });
  }

  getJob(generationId: string): Promise<Job<GenerateJobData> | undefined> {
    return this.queue.getJob(generationId);
  }

  state(generationId: string): Promise<GenerationJobState> {
    return this.queue.getJobState(generationId);
  }

  /** Lets a job that waits for its turn run now; one that is no longer delayed needs nothing. */
  async promote(generationId: string): Promise<void> {
    const job = await this.queue.getJob(generationId);
    if (!job || !(await job.isDelayed())) return;
    try {
      await job.promote();
    } catch (err) {
      // Promoted or removed between the check and the call: it no longer waits on us.
      if (await job.isDelayed()) this.logger.error('could not promote the next answer', { generationId, err });
    }
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
