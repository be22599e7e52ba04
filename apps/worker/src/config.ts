import { commonEnvShape, envPort, parseEnv } from '@ragstream/runtime';
import { LLM_PROVIDERS } from '@ragstream/rag';
import { z } from 'zod';

const workerEnvSchema = z.object({
  ...commonEnvShape,
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
  WORKER_HTTP_PORT: envPort.optional(),
  HOST: z.string().default('127.0.0.1'),
  LLM_PROVIDER: z.enum(LLM_PROVIDERS).default('offline-echo'),
  SYNTHETIC_TOKENS: z.coerce.number().int().min(0).default(200),
  SYNTHETIC_TOKENS_PER_SECOND: z.coerce.number().min(0).default(50),
  FRAME_FLUSH_MS: z.coerce.number().int().min(0).max(1000).default(15),
});

export type WorkerConfig = z.infer<typeof workerEnvSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseEnv(workerEnvSchema, env);
}
