import { describe, expect, it } from 'vitest';
import { OriginPolicy } from './origin-policy.ts';

describe('OriginPolicy', () => {
  it('`*` allows every origin', () => {
    const policy = new OriginPolicy('*');
    expect(policy.anyOrigin).toBe(true);
    expect(policy.allows({ origin: 'https://anywhere.example', host: 'api.example' })).toBe(true);
  });

  it('a list allows its origins (scheme, host and port; case and trailing slash aside) and nothing else', () => {
    const policy = new OriginPolicy(' https://App.example.com/ , http://localhost:5173');
    expect(policy.anyOrigin).toBe(false);
    const host = 'api.example.com';
    expect(policy.allows({ origin: 'https://app.example.com', host })).toBe(true);
    expect(policy.allows({ origin: 'http://localhost:5173', host })).toBe(true);
    expect(policy.allows({ origin: 'http://app.example.com', host })).toBe(false);
    expect(policy.allows({ origin: 'https://app.example.com:8443', host })).toBe(false);
    expect(policy.allows({ origin: 'https://evil.example', host })).toBe(false);
    expect(policy.allows({ origin: 'null', host })).toBe(false);
    expect(policy.allows({ origin: 'not a url', host })).toBe(false);
  });

  it('requests without an Origin (no browser) and from the node itself pass', () => {
    const policy = new OriginPolicy('https://app.example.com');
    expect(policy.allows({ host: 'api.example.com' })).toBe(true);
    expect(policy.allows({ origin: 'http://127.0.0.1:8000', host: '127.0.0.1:8000' })).toBe(true);
    expect(policy.allows({ origin: 'https://API.example.com', host: 'api.example.com' })).toBe(true);
    expect(policy.allows({ origin: 'http://127.0.0.1:8001', host: '127.0.0.1:8000' })).toBe(false);
    expect(policy.allows({ origin: 'http://127.0.0.1:8000' })).toBe(false);
  });

  it('gives the cors package the origin to echo, or none', () => {
    const policy = new OriginPolicy('https://app.example.com');
    const optionsFor = (headers: Record<string, string>): unknown => {
      let options: unknown;
      policy.corsOptions({ headers }, (_err, value) => {
        options = value;
      });
      return options;
    };
    expect(optionsFor({ origin: 'https://app.example.com', host: 'api' })).toMatchObject({ origin: true });
    expect(optionsFor({ origin: 'https://evil.example', host: 'api' })).toMatchObject({ origin: false });
    expect(optionsFor({ host: 'api' })).toMatchObject({ origin: false });
    let any: unknown;
    new OriginPolicy('*').corsOptions({ headers: { origin: 'https://x.example' } }, (_err, value) => {
      any = value;
    });
    expect(any).toMatchObject({ origin: '*' });
  });
});
