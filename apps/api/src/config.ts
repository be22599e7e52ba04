import { DOCUMENT_FORMATS, MAX_DOCUMENT_BYTES } from '@ragstream/protocol';
import { commonEnvShape, envBoolean, envPort, parseEnv } from '@ragstream/runtime';
import { z } from 'zod';

/** A limit: a whole number, 0 for none. */
const limit = (fallback: number) => z.coerce.number().int().min(0).default(fallback);

/** Comma-separated document formats, each one of DOCUMENT_FORMATS. */
const documentFormats = z
  .string()
  .default(DOCUMENT_FORMATS.join(','))
  .transform((value) =>
    value
      .split(',')
      .map((format) => format.trim())
      .filter((format) => format !== ''),
  )
  .pipe(z.array(z.enum(DOCUMENT_FORMATS)).min(1, `name at least one of ${DOCUMENT_FORMATS.join(', ')}`));

const apiEnvSchema = z.object({
  ...commonEnvShape,
  HOST: z.string().default('127.0.0.1'),
  PORT: envPort.default(8000),
  MAX_MESSAGE_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(60 * 1024)
    .default(8192),
  /** Frames one connection may have waiting to be handled; past it a frame gets `error` `busy`. */
  MAX_INBOUND_FRAMES: z.coerce.number().int().min(1).max(10_000).default(32),
  /** Bytes one client connection may leave unread before the node closes it as a slow consumer. */
  MAX_BUFFERED_BYTES: z.coerce
    .number()
    .int()
    .min(16 * 1024)
    .max(256 * 1024 * 1024)
    .default(1024 * 1024),
  NODE_ID: z.string().min(1).optional(),
  CORS_ORIGIN: z.string().default('*'),
  SOCKETIO_POLLING: envBoolean.default(false),
  /**
   * On SIGTERM, how long the node keeps serving (new connections included) while `/readyz`
   * answers 503, so that the load balancer takes it out first; then it closes its connections.
   */
  SHUTDOWN_DRAIN_SECONDS: z.coerce.number().min(0).max(120).default(0),
  /** Opens /admin (Bull Board) to holders of this bearer token; unset, /admin answers 401 to everyone. */
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  /* Limits, shared by every API node through Redis (0: none). README, Configuration. */
  MESSAGES_PER_MINUTE_PER_USER: limit(120),
  FRAMES_PER_SECOND_PER_CONNECTION: limit(50),
  ANSWERS_IN_PROGRESS_PER_USER: limit(20),
  ANSWERS_IN_PROGRESS_PER_ORGANISATION: limit(1000),
  CONNECTIONS_PER_USER: limit(100),
  GENERATION_QUEUE_MAX_WAITING: limit(10_000),
  /** A client this many times past a rate limit within its window is disconnected (0: never). */
  LIMIT_ABUSE_FACTOR: limit(10),
  TOKEN_QUOTA_USER_DAILY: limit(1_000_000),
  TOKEN_QUOTA_USER_MONTHLY: limit(20_000_000),
  TOKEN_QUOTA_ORGANISATION_DAILY: limit(50_000_000),
  TOKEN_QUOTA_ORGANISATION_MONTHLY: limit(1_000_000_000),
  DOCUMENT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(100 * 1024 * 1024)
    .default(MAX_DOCUMENT_BYTES),
  DOCUMENT_FORMATS: documentFormats,
  DOCUMENTS_PER_ORGANISATION: limit(10_000),
});

export type ApiConfig = z.infer<typeof apiEnvSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parseEnv(apiEnvSchema, env);
}
