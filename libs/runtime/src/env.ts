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

/** One Redis Cluster node, as `host:port`. */
export interface RedisNode {
  host: string;
  port: number;
}

/** Where Redis is: one server (its URL), or a Cluster (seed nodes; the rest are discovered). */
export type RedisTarget =
  | { kind: 'standalone'; url: string }
  | { kind: 'cluster'; nodes: RedisNode[]; username: string | undefined; password: string | undefined };

const CLUSTER_SCHEME = 'redis+cluster://';

/** `host:port,host:port` (a bracketed IPv6 host too), or undefined when any entry is not one. */
function parseNodes(list: string): RedisNode[] | undefined {
  const nodes: RedisNode[] = [];
  for (const entry of list.split(',')) {
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(entry.trim());
    const port = Number(match?.[2]);
    if (!match?.[1] || port < 1 || port > 65535) return undefined;
    nodes.push({ host: match[1].replace(/^\[|\]$/g, ''), port });
  }
  return nodes;
}

/** `redis+cluster://[user:password@]host:port,host:port` split into credentials and nodes; undefined if malformed. */
function parseClusterUrl(url: string): Omit<Extract<RedisTarget, { kind: 'cluster' }>, 'kind'> | undefined {
  const rest = url.slice(CLUSTER_SCHEME.length).replace(/\/$/, '');
  const at = rest.lastIndexOf('@');
  const nodes = parseNodes(at < 0 ? rest : rest.slice(at + 1));
  if (!nodes) return undefined;
  if (at < 0) return { nodes, username: undefined, password: undefined };
  const credentials = rest.slice(0, at);
  const colon = credentials.indexOf(':');
  const decode = (part: string): string | undefined => (part === '' ? undefined : decodeURIComponent(part));
  return colon < 0
    ? { nodes, username: undefined, password: decode(credentials) }
    : { nodes, username: decode(credentials.slice(0, colon)), password: decode(credentials.slice(colon + 1)) };
}

const redisUrl = z
  .string()
  .default('redis://127.0.0.1:6379')
  .refine((url) => (url.startsWith(CLUSTER_SCHEME) ? parseClusterUrl(url) !== undefined : z.url().safeParse(url).success), {
    message: `a redis:// URL, or ${CLUSTER_SCHEME}host:port,host:port for a Redis Cluster`,
  });

const clusterNodes = z
  .string()
  .transform((list, context) => {
    const nodes = parseNodes(list);
    if (nodes) return nodes;
    context.addIssue({ code: 'custom', message: 'comma-separated host:port seed nodes of a Redis Cluster' });
    return z.NEVER;
  })
  .optional();

/**
 * The Redis a process talks to: a Cluster when REDIS_CLUSTER_NODES is set (it wins over
 * REDIS_URL, whose credentials it then takes) or REDIS_URL is a `redis+cluster://` URL.
 */
export function redisTarget(config: { REDIS_URL: string; REDIS_CLUSTER_NODES?: RedisNode[] | undefined }): RedisTarget {
  const url = config.REDIS_URL;
  const cluster = url.startsWith(CLUSTER_SCHEME) ? parseClusterUrl(url) : undefined;
  if (config.REDIS_CLUSTER_NODES) {
    const credentials = cluster ?? standaloneCredentials(url);
    return { kind: 'cluster', nodes: config.REDIS_CLUSTER_NODES, username: credentials.username, password: credentials.password };
  }
  if (cluster) return { kind: 'cluster', ...cluster };
  if (url.startsWith(CLUSTER_SCHEME)) throw new ConfigError(`invalid configuration:\n  REDIS_URL: not a ${CLUSTER_SCHEME} URL`);
  return { kind: 'standalone', url };
}

function standaloneCredentials(url: string): { username: string | undefined; password: string | undefined } {
  const parsed = new URL(url);
  const decode = (part: string): string | undefined => (part === '' ? undefined : decodeURIComponent(part));
  return { username: decode(parsed.username), password: decode(parsed.password) };
}

/** Variables every process shares. */
export const commonEnvShape = {
  /** A standalone Redis, or `redis+cluster://host:port,host:port` for a Cluster. */
  REDIS_URL: redisUrl,
  /** Set: Redis is a Cluster reached through these seed nodes (see redisTarget). */
  REDIS_CLUSTER_NODES: clusterNodes,
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
