import { commonEnvShape, envBoolean, envPort, parseEnv } from '@ragstream/runtime';
import { z } from 'zod';

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
});

export type ApiConfig = z.infer<typeof apiEnvSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parseEnv(apiEnvSchema, env);
}
