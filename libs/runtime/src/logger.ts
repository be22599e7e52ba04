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
const SECRET_KEYS = [
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
];
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

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
      redact: REDACT_PATHS,
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

// Callers pass errors under any key ({ err }, { cause }), not only pino's `err`.
function serializeErrors(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    out[key] = value instanceof Error ? { name: value.name, ...stdSerializers.errWithCause(value) } : value;
  }
  return out;
}
