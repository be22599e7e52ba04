import type { DeleteDocumentJobData, IngestJobData, RedisKeys } from '@ragstream/protocol';
import {
  DELETE_DOCUMENT_JOB_NAME,
  deleteDocumentJobSchema,
  INGEST_JOB_NAME,
  INGEST_QUEUE,
  ingestJobIdFor,
  ingestJobSchema,
} from '@ragstream/protocol';
import type { JobsOptions } from 'bullmq';
import { Queue } from 'bullmq';
import type { RedisClient } from './redis-connection.ts';

const INGEST_JOB_OPTIONS: JobsOptions = {
  attempts: 3,
  backoff: { type: 'exponential', delay: 1000 },
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600 },
};

export type IngestionJobData = IngestJobData | DeleteDocumentJobData;

/** Document ingestion and removal run on the workers, on a queue of their own. */
export class IngestionQueue {
  readonly queue: Queue<IngestionJobData>;

  constructor(connection: RedisClient, keys: RedisKeys) {
    this.queue = new Queue<IngestionJobData>(INGEST_QUEUE, { connection, prefix: keys.bullPrefix });
  }

  async enqueueIngest(data: IngestJobData): Promise<string> {
    const payload = ingestJobSchema.parse(data);
    const jobId = ingestJobIdFor(payload.documentId, payload.revision);
    await this.queue.add(INGEST_JOB_NAME, payload, { ...INGEST_JOB_OPTIONS, jobId });
    return jobId;
  }

  async enqueueDelete(data: DeleteDocumentJobData): Promise<void> {
    const payload = deleteDocumentJobSchema.parse(data);
    await this.queue.add(DELETE_DOCUMENT_JOB_NAME, payload, INGEST_JOB_OPTIONS);
  }

  close(): Promise<void> {
    return this.queue.close();
  }
}
