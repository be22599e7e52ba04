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

  it('child() binds fields to every line of the child, nests, and leaves the parent as it was', () => {
    const lines = captureStderr(() => {
      const logger = createLogger('worker', 'debug');
      const job = logger.child({ jobId: 'gen-1', chatId: 'c1', traceId: 't1' });
      const attempt = job.child({ attempt: 2 });
      job.info('generation job started', { bullAttempt: 1 });
      attempt.debug('stage', { stage: 'searching' });
      attempt.warn('retrying', { attempt: 3 });
      logger.info('worker ready');
    });
    expect(lines).toEqual([
      {
        t: expect.any(String),
        level: 'info',
        service: 'worker',
        jobId: 'gen-1',
        chatId: 'c1',
        traceId: 't1',
        bullAttempt: 1,
        msg: 'generation job started',
      },
      {
        t: expect.any(String),
        level: 'debug',
        service: 'worker',
        jobId: 'gen-1',
        chatId: 'c1',
        traceId: 't1',
        attempt: 2,
        stage: 'searching',
        msg: 'stage',
      },
      // pino writes a field again when a line repeats a bound key; JSON.parse keeps the line's own value.
      { t: expect.any(String), level: 'warn', service: 'worker', jobId: 'gen-1', chatId: 'c1', traceId: 't1', attempt: 3, msg: 'retrying' },
      { t: expect.any(String), level: 'info', service: 'worker', msg: 'worker ready' },
    ]);
  });

  it('child() keeps the level, redacts bound secrets and serializes bound errors', () => {
    const lines = captureStderr(() => {
      const child = createLogger('api:n1', 'info').child({ chatId: 'c1', token: 'tok-secret', cause: new Error('boom') });
      child.debug('not shown');
      child.info('bound');
    });
    expect(lines).toHaveLength(1);
    expect(JSON.stringify(lines[0])).not.toContain('tok-secret');
    expect(lines[0]).toMatchObject({ chatId: 'c1', token: '[Redacted]', cause: { name: 'Error', message: 'boom' }, msg: 'bound' });
  });

  it("redacts the processes' own secrets, cookies and API-key headers wherever they sit", () => {
    const [line] = captureStderr(() =>
      createLogger('api:n1').warn('request', {
        env: { OPENAI_API_KEY: 'sk-env', ADMIN_TOKEN: 'admin-env', METRICS_TOKEN: 'metrics-env', AUTH_JWT_SECRET: 'jwt-env', PATH: '/bin' },
        headers: { cookie: 'ragstream_admin=c-1', 'x-api-key': 'k-1', 'proxy-authorization': 'Basic p-1', host: 'api' },
        response: { headers: { 'set-cookie': ['ragstream_admin=c-2; HttpOnly'] } },
        cookies: { session: 'c-3' },
      }),
    );
    const text = JSON.stringify(line);
    for (const secret of ['sk-env', 'admin-env', 'metrics-env', 'jwt-env', 'c-1', 'k-1', 'p-1', 'c-2', 'c-3'])
      expect(text).not.toContain(secret);
    expect(line).toMatchObject({ env: { PATH: '/bin' }, headers: { host: 'api' } });
  });

  it('logs URLs without their token (and other credential parameters), in fields, nested, in errors and in bound fields', () => {
    const lines = captureStderr(() => {
      const logger = createLogger('api:n1');
      logger.info('upgrade', {
        url: '/chat/ws/c1?token=tok-1&generationId=g1&lastSeq=4',
        request: { originalUrl: '/chat/c1/events?lastEventId=g1:2&token=tok-2', method: 'GET' },
        urls: ['https://h/x?api_key=key-3', 'https://h/y?access_token=tok-4#frag'],
        note: 'sent Authorization: Bearer eyJhbGciOi.payload.sig to the model',
        err: new Error('fetch http://model/v1?key=key-5 failed'),
      });
      logger.child({ url: '/chat/ws/c2?token=tok-6' }).info('bound');
    });
    const text = JSON.stringify(lines);
    for (const secret of ['tok-1', 'tok-2', 'key-3', 'tok-4', 'eyJhbGciOi', 'key-5', 'tok-6']) expect(text).not.toContain(secret);
    expect(lines[0]).toMatchObject({
      url: '/chat/ws/c1?token=[Redacted]&generationId=g1&lastSeq=4',
      request: { originalUrl: '/chat/c1/events?lastEventId=g1:2&token=[Redacted]', method: 'GET' },
      urls: ['https://h/x?api_key=[Redacted]', 'https://h/y?access_token=[Redacted]#frag'],
      note: 'sent Authorization: Bearer [Redacted] to the model',
      err: { message: 'fetch http://model/v1?key=[Redacted] failed', stack: expect.stringContaining('key=[Redacted]') },
    });
    expect(lines[1]).toMatchObject({ url: '/chat/ws/c2?token=[Redacted]', msg: 'bound' });
  });
});
