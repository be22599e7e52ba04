import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonEnvShape, envPort, parseEnv, redisTarget } from './env.ts';

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

describe('redisTarget', () => {
  const parse = (env: NodeJS.ProcessEnv) => redisTarget(parseEnv(schema, env));

  it('is the standalone REDIS_URL by default', () => {
    expect(parse({})).toEqual({ kind: 'standalone', url: 'redis://127.0.0.1:6379' });
    expect(parse({ REDIS_URL: 'redis://:secret@redis:6380/0' })).toEqual({ kind: 'standalone', url: 'redis://:secret@redis:6380/0' });
  });

  it('is a Cluster of the seed nodes in REDIS_CLUSTER_NODES, with REDIS_URL’s credentials', () => {
    expect(
      parse({ REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-b:7001,[::1]:7002', REDIS_URL: 'redis://app:s%40cret@ignored:6379' }),
    ).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-b', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      username: 'app',
      password: 's@cret',
    });
  });

  it('is a Cluster for a redis+cluster:// URL', () => {
    expect(parse({ REDIS_URL: 'redis+cluster://127.0.0.1:7000,127.0.0.1:7001' })).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '127.0.0.1', port: 7000 },
        { host: '127.0.0.1', port: 7001 },
      ],
      username: undefined,
      password: undefined,
    });
    expect(parse({ REDIS_URL: 'redis+cluster://:pw@r1:7000/' })).toEqual({
      kind: 'cluster',
      nodes: [{ host: 'r1', port: 7000 }],
      username: undefined,
      password: 'pw',
    });
  });

  it.each([
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '127.0.0.1' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: '127.0.0.1:7000,' }],
    ['REDIS_CLUSTER_NODES', { REDIS_CLUSTER_NODES: 'a:70000' }],
    ['REDIS_URL', { REDIS_URL: 'redis+cluster://' }],
    ['REDIS_URL', { REDIS_URL: 'redis+cluster://host-without-port,b:1' }],
  ])('fails fast naming %s for a bad value', (variable, env) => {
    const attempt = (): unknown => parseEnv(schema, env);
    expect(attempt).toThrow(ConfigError);
    expect(attempt).toThrow(new RegExp(`${variable}: .*host:port`));
  });
});
