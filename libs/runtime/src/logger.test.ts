import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from './logger.ts';

/** The JSON lines the logger wrote to stderr while `log` ran. */
function captureStderr(log: () => void): Record<string, unknown>[] {
  const lines: string[] = [];
  vi.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => {
    lines.push(chunk.toString());
    return true;
  });
  try {
    log();
  } finally {
    vi.restoreAllMocks();
  }
  return lines
    .join('')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('createLogger', () => {
  it('writes one JSON line per event with time, level, service, fields and msg, above the level only', () => {
    const lines = captureStderr(() => {
      const logger = createLogger('api:n1', 'info');
      logger.debug('not shown');
      logger.info('api node listening', { port: 8000 });
      logger.warn('no fields');
    });
    expect(lines).toEqual([
      {
        t: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        level: 'info',
        service: 'api:n1',
        port: 8000,
        msg: 'api node listening',
      },
      { t: expect.any(String), level: 'warn', service: 'api:n1', msg: 'no fields' },
    ]);
  });

  it('serializes errors under any key with name, message and stack, and their causes', () => {
    class JobError extends Error {
      override name = 'JobError';
    }
    const err = new JobError('generation failed', { cause: new TypeError('bad chunk') });
    const [line] = captureStderr(() => createLogger('worker').error('job failed', { chatId: 'c1', err, cause: new RangeError('late') }));
    expect(line).toMatchObject({
      level: 'error',
      chatId: 'c1',
      msg: 'job failed',
      err: {
        name: 'JobError',
        message: 'generation failed',
        stack: expect.stringContaining('generation failed'),
        cause: { message: 'bad chunk', stack: expect.stringContaining('TypeError: bad chunk') },
      },
      cause: { name: 'RangeError', message: 'late', stack: expect.stringContaining('RangeError: late') },
    });
  });

  it('redacts secrets at the top level and nested, and leaves other fields alone', () => {
    const [line] = captureStderr(() =>
      createLogger('worker').warn('calling the model', {
        apiKey: 'sk-top',
        password: 'hunter2',
        headers: { authorization: 'Bearer abc', accept: 'text/event-stream' },
        config: { llm: { apiKey: 'sk-nested', model: 'gpt-4o-mini' }, secret: 's' },
        session: { user: { auth: { token: 't-deep' } } },
      }),
    );
    const text = JSON.stringify(line);
    for (const secret of ['sk-top', 'hunter2', 'Bearer abc', 'sk-nested', '"s"', 't-deep']) expect(text).not.toContain(secret);
    expect(line).toMatchObject({
      apiKey: '[Redacted]',
      password: '[Redacted]',
      headers: { authorization: '[Redacted]', accept: 'text/event-stream' },
      config: { llm: { apiKey: '[Redacted]', model: 'gpt-4o-mini' }, secret: '[Redacted]' },
      session: { user: { auth: { token: '[Redacted]' } } },
    });
  });
});
