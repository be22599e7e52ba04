import { z } from 'zod';

/** Thrown at start when the environment does not fit the app's schema; the message names each variable. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Parses an app's environment once, failing fast with the variables at fault. */
export function parseEnv<S extends z.ZodType>(schema: S, env: NodeJS.ProcessEnv = process.env): z.infer<S> {
  const result = schema.safeParse(env);
  if (result.success) return result.data;
  const lines = result.error.issues.map((issue) => `  ${issue.path.join('.') || '(env)'}: ${issue.message}`);
  throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
}

/** Boolean env values: "1"/"true"/"yes" and "0"/"false"/"no". */
export const envBoolean = z
  .enum(['1', '0', 'true', 'false', 'yes', 'no'])
  .transform((value) => value === '1' || value === 'true' || value === 'yes');

export const envPort = z.coerce.number().int().min(0).max(65535);

/** Variables every process shares. */
export const commonEnvShape = {
  REDIS_URL: z.string().url().default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .min(1)
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
    .default('ragstream'),
  MONGODB_URL: z.string().url().optional(),
  DATA_DIR: z.string().min(1).default('./.data'),
  GENERATION_TTL_SECONDS: z.coerce.number().int().min(60).default(3600),
  ABANDON_AFTER_SECONDS: z.coerce.number().positive().default(120),
  LOG_LEVEL: z.enum(['debug', 'info', 'warn', 'error']).default('info'),
  /** Set: `/metrics` requires `Authorization: Bearer <token>`. Unset: it is open. */
  METRICS_TOKEN: z.string().min(1).optional(),
};
