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

/** Unset and empty are the same (Compose passes `${VAR:-}` through as an empty string). */
const optionalString = (schema: z.ZodString) => z.preprocess((value) => (value === '' ? undefined : value), schema.optional());

/** What the API may bind to without authentication: this machine only. */
export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || host === '[::1]' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const AUTH_VARIABLES = 'AUTH_JWT_SECRET (HS256) or AUTH_JWKS_URL (RS256/ES256)';

const apiEnvSchema = z
  .object({
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
    /** Load tests: serves the in-process baseline at /loadtest/baseline (the synthetic responder on this node, no queue, no Redis). */
    LOADTEST_BASELINE: envBoolean.default(false),
    /**
     * On SIGTERM, how long the node keeps serving (new connections included) while `/readyz`
     * answers 503, so that the load balancer takes it out first; then it closes its connections.
     */
    SHUTDOWN_DRAIN_SECONDS: z.coerce.number().min(0).max(120).default(0),
    /** Opens /admin (Bull Board) to holders of this bearer token; unset, /admin answers 401 to everyone (but admin JWTs). */
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
    NODE_ENV: z.string().optional(),
    /** HS256: the shared secret that signs users' tokens. */
    AUTH_JWT_SECRET: optionalString(z.string().min(32, 'must be at least 32 characters (256 bits for HS256)')),
    /** RS256/ES256: the identity provider's JSON Web Key Set. */
    AUTH_JWKS_URL: optionalString(z.string().url()),
    AUTH_ISSUER: optionalString(z.string()),
    /** Comma-separated: a token's `aud` must hold one of them. */
    AUTH_AUDIENCE: optionalString(z.string()).transform((value) =>
      value
        ?.split(',')
        .map((a) => a.trim())
        .filter((a) => a.length > 0),
    ),
    AUTH_ORG_CLAIM: z.string().min(1).default('org'),
  })
  .superRefine((env, ctx) => {
    const configured = env.AUTH_JWT_SECRET !== undefined || env.AUTH_JWKS_URL !== undefined;
    if (env.AUTH_JWT_SECRET !== undefined && env.AUTH_JWKS_URL !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['AUTH_JWKS_URL'], message: 'set either AUTH_JWT_SECRET or AUTH_JWKS_URL, not both' });
    }
    if (configured) return;
    if (env.NODE_ENV === 'production') {
      ctx.addIssue({
        code: 'custom',
        path: ['AUTH_JWT_SECRET'],
        message: `production mode (NODE_ENV=production) needs authentication: set ${AUTH_VARIABLES}`,
      });
    } else if (!isLoopbackHost(env.HOST)) {
      ctx.addIssue({
        code: 'custom',
        path: ['HOST'],
        message: `without authentication the API binds to localhost only (127.0.0.1, ::1, localhost), not ${env.HOST}: set ${AUTH_VARIABLES}, or HOST=127.0.0.1`,
      });
    }
  });

export type ApiConfig = z.infer<typeof apiEnvSchema>;

export function loadApiConfig(env: NodeJS.ProcessEnv = process.env): ApiConfig {
  return parseEnv(apiEnvSchema, env);
}
