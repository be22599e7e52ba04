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

// Field names whose values never reach the logs, at the top level and three levels down
// (e.g. { headers: { authorization } }, { config: { llm: { apiKey } } }).
const SECRET_KEYS = new Set([
  'apiKey',
  'api_key',
  'token',
  'accessToken',
  'refreshToken',
  'authorization',
  'Authorization',
  'cookie',
  'password',
  'secret',
  'clientSecret',
]);
const SECRET_DEPTH = 3;
const REDACTED = '[Redacted]';

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
        log: serializeErrors,
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
    child: (fields) => wrap(log.child(serializeErrors(fields))),
  };
}

/**
 * Serializes errors under any key (callers pass { err }, { cause }, not only pino's `err`)
 * and redacts secrets. Done here rather than with pino's `redact`: its wildcard paths cost
 * 50 to 120 microseconds a line, several times the line itself, on every answer's path.
 */
function serializeErrors(fields: Record<string, unknown>, depth = 0): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (SECRET_KEYS.has(key)) out[key] = REDACTED;
    else if (value instanceof Error) out[key] = { name: value.name, ...stdSerializers.errWithCause(value) };
    else if (depth < SECRET_DEPTH && isPlainObject(value)) out[key] = serializeErrors(value, depth + 1);
    else out[key] = value;
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
