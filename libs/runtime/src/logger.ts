import type { Logger as PinoLogger } from 'pino';
import { pino, stdSerializers } from 'pino';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line it writes, so that ids are bound once per connection or job. */
  child(fields: Record<string, unknown>): Logger;
}

// Field names whose values never reach the logs, at the top level and six levels down
// (e.g. { headers: { authorization } }, { config: { llm: { apiKey } } }, { env: { OPENAI_API_KEY } }).
const SECRET_KEYS = new Set([
  'apiKey',
  'api_key',
  'token',
  'accessToken',
  'refreshToken',
  'idToken',
  'authorization',
  'Authorization',
  'proxy-authorization',
  'x-api-key',
  'cookie',
  'cookies',
  'Cookie',
  'set-cookie',
  'password',
  'secret',
  'clientSecret',
  // The secrets of the processes' own environment, should a line ever carry a config or env object.
  'OPENAI_API_KEY',
  'ADMIN_TOKEN',
  'METRICS_TOKEN',
  'AUTH_JWT_SECRET',
]);
const REDACTED = '[Redacted]';

/** Query parameters whose values are credentials, wherever a URL appears in a string. */
const SECRET_QUERY = /([?&#;](?:token|access_token|id_token|refresh_token|api_key|apikey|key|password|secret|jwt)=)[^&#\s"'<>]*/gi;
/** A bearer credential written into a text (an error message quoting a header). */
const BEARER = /\b(Bearer\s+)[A-Za-z0-9\-._~+/]+=*/g;
/** How deep `scrub` looks into a field's objects and arrays. */
const SCRUB_DEPTH = 6;

/**
 * One JSON line per event on stderr (`t`, `level`, `service`, the fields, `msg`), so logs of
 * spawned processes stay machine-readable; process.stderr writes synchronously to files and
 * pipes, so a line logged just before exit is not lost.
 */
export function createLogger(service: string, level: LogLevel = 'info'): Logger {
  const log = pino(
    {
      level,
      base: { service },
      timestamp: () => `,"t":"${new Date().toISOString()}"`,
      formatters: {
        level: (label) => ({ level: label }),
        log: prepareFields,
      },
      // Errors are serialized above, under any key; pino's own `err` serializer would redo it.
      serializers: { err: (value: unknown) => value },
    },
    process.stderr,
  );
  return wrap(log);
}

function wrap(log: PinoLogger): Logger {
  const at =
    (lvl: LogLevel) =>
    (msg: string, fields?: Record<string, unknown>): void => {
      if (fields) log[lvl](fields, msg);
      else log[lvl](msg);
    };
  return {
    debug: at('debug'),
    info: at('info'),
    warn: at('warn'),
    error: at('error'),
    // pino's child serializes the bound fields once (redacted, errors serialized), not on every line.
    child: (fields) => wrap(log.child(prepareFields(fields))),
  };
}

/**
 * Errors serialized under any key (callers pass { err }, { cause }, not only pino's `err`),
 * the values of secret keys replaced, and credentials cut out of every string: a URL logged
 * with `?token=…` keeps its path and other parameters. Done in this one walk rather than with
 * pino's `redact`, whose wildcard paths cost 50 to 120 microseconds a line, several times the
 * line itself, on every answer's path.
 */
function prepareFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_KEYS.has(key)) out[key] = REDACTED;
    else out[key] = scrub(value instanceof Error ? { name: value.name, ...stdSerializers.errWithCause(value) } : value, SCRUB_DEPTH);
  }
  return out;
}

/** `value` with credentials in its strings replaced; objects are copied only where something changed. */
function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return scrubText(value);
  if (depth === 0 || typeof value !== 'object' || value === null) return value;
  if (value instanceof Error) return scrub({ name: value.name, ...stdSerializers.errWithCause(value) }, depth);
  if (Array.isArray(value)) {
    let changed = false;
    const items = value.map((item: unknown) => {
      const scrubbed = scrub(item, depth - 1);
      if (scrubbed !== item) changed = true;
      return scrubbed;
    });
    return changed ? items : value;
  }
  // Plain records only: a Buffer, a Date or a class instance is left for pino to write as it does.
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return value;
  let copy: Record<string, unknown> | undefined;
  for (const [key, item] of Object.entries(value)) {
    const scrubbed = SECRET_KEYS.has(key) ? REDACTED : scrub(item, depth - 1);
    if (scrubbed !== item) {
      copy ??= { ...(value as Record<string, unknown>) };
      copy[key] = scrubbed;
    }
  }
  return copy ?? value;
}

/** Replaces credentials in one string: the values of secret query parameters and bearer tokens. */
export function scrubText(text: string): string {
  if (!text.includes('=') && !text.includes('Bearer')) return text;
  return text.replace(SECRET_QUERY, '$1[Redacted]').replace(BEARER, '$1[Redacted]');
}
