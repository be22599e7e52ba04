import { commonEnvShape, envBoolean, envPort, parseEnv } from '@ragstream/runtime';
import { z } from 'zod';

export const LLM_PROVIDERS = ['offline', 'openai', 'synthetic'] as const;
export const EMBEDDINGS_PROVIDERS = ['offline', 'openai'] as const;
export const WORKER_ROLE_NAMES = ['answer', 'ingest'] as const;
export type WorkerRole = (typeof WORKER_ROLE_NAMES)[number];

/** A comma-separated list of roles, each once: `answer`, `ingest`, or both. */
const workerRoles = z
  .string()
  .default('answer,ingest')
  .transform((text) => text.split(',').map((role) => role.trim()))
  .pipe(
    z
      .array(z.enum(WORKER_ROLE_NAMES))
      .min(1)
      .refine((roles) => new Set(roles).size === roles.length, { message: 'names a role twice' }),
  )
  .transform((roles) => new Set<WorkerRole>(roles));

const workerEnvSchema = z
  .object({
    ...commonEnvShape,
    /** Which queues this process takes jobs from: answers, document ingestion, or both. */
    WORKER_ROLES: workerRoles,
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(1000).default(32),
    INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(2),
    WORKER_HTTP_PORT: envPort.optional(),
    HOST: z.string().default('127.0.0.1'),
    LLM_PROVIDER: z.enum(LLM_PROVIDERS).default('offline'),
    SYNTHETIC_TOKENS: z.coerce.number().int().min(0).default(200),
    SYNTHETIC_TOKENS_PER_SECOND: z.coerce.number().min(0).default(50),
    FRAME_FLUSH_MS: z.coerce.number().int().min(0).max(1000).default(15),
    /** Load tests: frames carry `appendedAt`, so that clients measure append -> receive. */
    FRAME_APPEND_TIMESTAMPS: envBoolean.default(false),
    OPENAI_BASE_URL: z.string().url().optional(),
    OPENAI_API_KEY: z.string().default(''),
    LLM_MODEL: z.string().min(1).default('gpt-4o-mini'),
    LLM_TIMEOUT_MS: z.coerce.number().int().positive().default(30_000),
    LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(10).default(2),
    LLM_MAX_ANSWER_TOKENS: z.coerce.number().int().positive().optional(),
    EMBEDDINGS_PROVIDER: z.enum(EMBEDDINGS_PROVIDERS).default('offline'),
    EMBEDDINGS_BASE_URL: z.string().url().optional(),
    EMBEDDING_MODEL: z.string().min(1).default('text-embedding-3-small'),
    VECTOR_DIMENSIONS: z.coerce.number().int().min(2).max(8192).default(512),
    MILVUS_ADDRESS: z.string().min(1).optional(),
    /** One collection per embedder: its vectors' dimensions are fixed when it is created. */
    MILVUS_COLLECTION: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]{0,254}$/, 'letters, digits and underscores, not starting with a digit')
      .default('ragstream_chunks'),
    /** Budget of the in-memory search indexes of every organisation together (256 MiB by default). */
    INDEX_CACHE_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1024 * 1024)
      .default(256 * 1024 * 1024),
    RETRIEVAL_TOP_K: z.coerce.number().int().min(1).max(50).default(10),
    /** Weight of the vector ranking against BM25's 1 in the hybrid fusion; unset: by embedder (see HybridRetriever). */
    RETRIEVAL_VECTOR_WEIGHT: z.coerce.number().min(0).max(10).optional(),
    ANSWER_PASSAGES: z.coerce.number().int().min(1).max(20).default(3),
    CHUNK_SIZE: z.coerce.number().int().min(200).max(20_000).default(1200),
    CHUNK_OVERLAP: z.coerce.number().int().min(0).max(5_000).default(150),
    /** On SIGTERM, how long running answers may take to finish before they are handed back to other workers. */
    SHUTDOWN_GRACE_SECONDS: z.coerce.number().min(0).max(3600).default(20),
    /** For the chaos suite only: a pause between an answer's last token and its terminal frame, so that a kill can land there. */
    RAGSTREAM_TEST_PAUSE_BEFORE_FINISH_MS: z.coerce.number().int().min(0).default(0),
  })
  .refine((env) => env.CHUNK_OVERLAP < env.CHUNK_SIZE, { message: 'must be smaller than CHUNK_SIZE', path: ['CHUNK_OVERLAP'] })
  .refine((env) => env.LLM_PROVIDER !== 'openai' || env.OPENAI_BASE_URL !== undefined, {
    message: 'required when LLM_PROVIDER=openai (e.g. https://api.openai.com/v1)',
    path: ['OPENAI_BASE_URL'],
  })
  .refine((env) => env.EMBEDDINGS_PROVIDER !== 'openai' || (env.EMBEDDINGS_BASE_URL ?? env.OPENAI_BASE_URL) !== undefined, {
    message: 'required when EMBEDDINGS_PROVIDER=openai (or set OPENAI_BASE_URL)',
    path: ['EMBEDDINGS_BASE_URL'],
  });

export type WorkerConfig = z.infer<typeof workerEnvSchema>;

export function loadWorkerConfig(env: NodeJS.ProcessEnv = process.env): WorkerConfig {
  return parseEnv(workerEnvSchema, env);
}
