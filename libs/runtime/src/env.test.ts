import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonEnvShape, envPort, parseEnv } from './env.ts';

const schema = z.object({ ...commonEnvShape, PORT: envPort.default(8000) });

describe('parseEnv', () => {
  it('applies defaults', () => {
    const config = parseEnv(schema, {});
    expect(config.PORT).toBe(8000);
    expect(config.REDIS_URL).toBe('redis://127.0.0.1:6379');
    expect(config.DATA_DIR).toBe('./.data');
    expect(config.ABANDON_AFTER_SECONDS).toBe(120);
  });

  it('fails fast naming every variable at fault', () => {
    const attempt = (): unknown => parseEnv(schema, { PORT: 'eighty', REDIS_URL: 'not a url' });
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(/PORT/);
    expect(attempt).toThrow(/REDIS_URL/);
  });
});
