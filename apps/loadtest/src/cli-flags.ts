import { writeFileSync } from 'node:fs';

/** A flag value that is not what the command accepts; the entry points print it with their usage. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type FlagValues = Record<string, string | boolean | (string | boolean)[] | undefined>;

function single(values: FlagValues, name: string): string | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  const last = Array.isArray(value) ? value.at(-1) : value;
  if (typeof last !== 'string') throw new UsageError(`--${name} needs a value`);
  return last;
}

/** A number flag within [min, max]; integers unless `integer` is false. */
export function numberFlag(values: FlagValues, name: string, fallback: number, min: number, max: number, integer = true): number {
  const text = single(values, name);
  if (text === undefined) return fallback;
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value) || (integer && !Number.isInteger(value)) || value < min || value > max) {
    throw new UsageError(`--${name} must be ${integer ? 'an integer' : 'a number'} from ${min} to ${max}, got ${JSON.stringify(text)}`);
  }
  return value;
}

export function stringFlag(values: FlagValues, name: string): string | undefined {
  return single(values, name);
}

/** Every value of a repeatable flag, also split on commas: `--url a --url b,c`. */
export function listFlag(values: FlagValues, name: string): string[] {
  const value = values[name];
  const raw = value === undefined ? [] : Array.isArray(value) ? value : [value];
  return raw
    .filter((item): item is string => typeof item === 'string')
    .flatMap((item) => item.split(','))
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** Prints the one-line JSON result and writes it to `file` too, if given. */
export function emitJson(result: unknown, file: string | undefined): void {
  const line = JSON.stringify(result);
  process.stdout.write(`${line}\n`);
  if (file !== undefined) writeFileSync(file, `${line}\n`);
}
