import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { signHs256, TEST_JWT_SECRET, TestJwks } from '@ragstream/testing';
import { UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiError } from '../api-error.ts';
import type { VerifierOptions } from './token-verifier.ts';
import { createTokenVerifier } from './token-verifier.ts';

const DEFAULT_ORG = '000000000000000000000001';
const ORG = 'aaaaaaaaaaaaaaaaaaaaaaaa';

const hs256 = (extra: Partial<VerifierOptions> = {}) =>
  createTokenVerifier({
    key: { kind: 'secret', secret: TEST_JWT_SECRET },
    organisationClaim: 'org',
    defaultOrganisationId: DEFAULT_ORG,
    ...extra,
  });

/** The ApiError a verification fails with (the test fails if it succeeds). */
async function refusal(promise: Promise<unknown>): Promise<ApiError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error('the token was accepted');
}

describe('HS256 tokens (AUTH_JWT_SECRET)', () => {
  it('accepts a token with only sub: the default organisation, no roles; exp gives expiresAt', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'alice' }, { expiresIn: 600 });
    const principal = await hs256().verify(token);
    expect(principal).toEqual({
      userId: 'alice',
      organisationId: DEFAULT_ORG,
      admin: false,
      orgAdmin: false,
      expiresAt: expect.any(Number),
    });
    expect(principal.expiresAt).toBeGreaterThan(Date.now() + 590_000);
    expect(principal.expiresAt).toBeLessThanOrEqual(Date.now() + 600_000);
    // exp is checked whenever present, and not demanded.
    expect((await hs256().verify(await signHs256(TEST_JWT_SECRET, { sub: 'alice' }))).expiresAt).toBeUndefined();
  });

  it('reads the organisation claim (org, or the configured name), role "admin" and org_role "admin", as strings or arrays', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'bob', org: ORG, role: 'admin', org_role: ['member', 'admin'] });
    expect(await hs256().verify(token)).toMatchObject({ userId: 'bob', organisationId: ORG, admin: true, orgAdmin: true });
    const tenant = await signHs256(TEST_JWT_SECRET, { sub: 'bob', tenant: ORG, org: 'ignored', role: ['user'], org_role: 'member' });
    expect(await hs256({ organisationClaim: 'tenant' }).verify(tenant)).toMatchObject({
      organisationId: ORG,
      admin: false,
      orgAdmin: false,
    });
  });

  it('refuses an expired token with token_expired', async () => {
    const error = await refusal(hs256().verify(await signHs256(TEST_JWT_SECRET, { sub: 'alice' }, { expiresIn: -5 })));
    expect(error.code).toBe('token_expired');
    expect(error.status).toBe(401);
  });

  it('refuses a forged signature, a missing or empty sub, a bad org claim, garbage and alg "none", never echoing the token', async () => {
    const cases: [string, string, RegExp][] = [
      ['forged', await signHs256(`${TEST_JWT_SECRET}-other`, { sub: 'alice' }), /signature/],
      ['no sub', await signHs256(TEST_JWT_SECRET, { name: 'alice' }), /sub claim/],
      ['empty sub', await signHs256(TEST_JWT_SECRET, { sub: '' }), /sub claim/],
      ['org not a string', await signHs256(TEST_JWT_SECRET, { sub: 'alice', org: 7 }), /org claim/],
      ['not a JWT', 'not-a-jwt', /well-formed/],
      ['alg none', new UnsecuredJWT({ sub: 'alice' }).encode(), /algorithm|well-formed/],
    ];
    for (const [name, token, message] of cases) {
      const error = await refusal(hs256().verify(token));
      expect({ name, code: error.code }).toEqual({ name, code: 'unauthorized' });
      expect(error.message).toMatch(message);
      expect(error.message).not.toContain(token);
    }
  });

  it('checks the issuer and the audience when configured', async () => {
    const verifier = hs256({ issuer: 'https://id.example', audience: ['ragstream', 'other-app'] });
    const good = await signHs256(TEST_JWT_SECRET, { sub: 'alice' }, { issuer: 'https://id.example', audience: 'ragstream' });
    expect((await verifier.verify(good)).userId).toBe('alice');
    const cases: [string, Promise<string>, RegExp][] = [
      ['wrong issuer', signHs256(TEST_JWT_SECRET, { sub: 'a' }, { issuer: 'https://evil.example', audience: 'ragstream' }), /issuer/],
      ['no issuer', signHs256(TEST_JWT_SECRET, { sub: 'a' }, { audience: 'ragstream' }), /issuer/],
      ['wrong audience', signHs256(TEST_JWT_SECRET, { sub: 'a' }, { issuer: 'https://id.example', audience: 'billing' }), /audience/],
      ['no audience', signHs256(TEST_JWT_SECRET, { sub: 'a' }, { issuer: 'https://id.example' }), /audience/],
    ];
    for (const [name, token, message] of cases) {
      const error = await refusal(verifier.verify(await token));
      expect({ name, code: error.code }).toEqual({ name, code: 'unauthorized' });
      expect(error.message).toMatch(message);
    }
    // Unconfigured, neither is checked.
    expect((await hs256().verify(await signHs256(TEST_JWT_SECRET, { sub: 'a' }, { issuer: 'x', audience: 'y' }))).userId).toBe('a');
  });
});

describe('RS256 and ES256 tokens (AUTH_JWKS_URL, a key set served by a local HTTP server)', () => {
  let jwks: TestJwks;
  const jwksVerifier = (url: string, extra: Partial<VerifierOptions> = {}) =>
    createTokenVerifier({ key: { kind: 'jwks', url }, organisationClaim: 'org', defaultOrganisationId: DEFAULT_ORG, ...extra });

  beforeAll(async () => {
    jwks = await TestJwks.start();
  });
  afterAll(async () => {
    await jwks?.close();
  });

  it.each(['RS256', 'ES256'] as const)('accepts a %s token signed with a served key', async (alg) => {
    const verifier = jwksVerifier(jwks.url);
    const token = await jwks.sign(alg, { sub: `user-${alg}`, org: ORG, org_role: 'admin' }, { expiresIn: 60 });
    expect(await verifier.verify(token)).toMatchObject({ userId: `user-${alg}`, organisationId: ORG, admin: false, orgAdmin: true });
  });

  it('fetches the key set once and reuses it', async () => {
    const verifier = jwksVerifier(jwks.url);
    const before = jwks.requests;
    for (let i = 0; i < 5; i++) await verifier.verify(await jwks.sign('ES256', { sub: `u${i}` }));
    expect(jwks.requests - before).toBe(1);
  });

  it.each(['RS256', 'ES256'] as const)('refuses a forged %s token (a key outside the set) and one with an unknown kid', async (alg) => {
    const verifier = jwksVerifier(jwks.url);
    const forged = await refusal(verifier.verify(await jwks.forge(alg, { sub: 'mallory' }, 'served')));
    expect([forged.code, forged.message]).toEqual(['unauthorized', expect.stringMatching(/signature/)]);
    const unknown = await refusal(verifier.verify(await jwks.forge(alg, { sub: 'mallory' }, 'unknown')));
    expect([unknown.code, unknown.message]).toEqual(['unauthorized', expect.stringMatching(/no key/)]);
  });

  it('refuses expired, wrong-issuer, wrong-audience and sub-less tokens, and HS256 tokens (algorithm not accepted)', async () => {
    const verifier = jwksVerifier(jwks.url, { issuer: 'https://id.example', audience: ['ragstream'] });
    const ok = { issuer: 'https://id.example', audience: 'ragstream' };
    expect((await verifier.verify(await jwks.sign('RS256', { sub: 'a' }, ok))).userId).toBe('a');
    const expired = await refusal(verifier.verify(await jwks.sign('RS256', { sub: 'a' }, { ...ok, expiresIn: -1 })));
    expect(expired.code).toBe('token_expired');
    const cases: [string, Promise<string>, RegExp][] = [
      ['issuer', jwks.sign('ES256', { sub: 'a' }, { ...ok, issuer: 'https://evil.example' }), /issuer/],
      ['audience', jwks.sign('ES256', { sub: 'a' }, { ...ok, audience: 'billing' }), /audience/],
      ['no sub', jwks.sign('RS256', {}, ok), /sub claim/],
      ['HS256', signHs256(TEST_JWT_SECRET, { sub: 'a' }, ok), /algorithm/],
    ];
    for (const [name, token, message] of cases) {
      const error = await refusal(verifier.verify(await token));
      expect({ name, code: error.code }).toEqual({ name, code: 'unauthorized' });
      expect(error.message).toMatch(message);
    }
  });

  it('answers unavailable, not unauthorized, when the key set cannot be read', async () => {
    const broken = createServer((_req, res) => res.writeHead(500).end('down'));
    await new Promise<void>((resolve) => broken.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(broken.address() as AddressInfo).port}/jwks.json`;
      const error = await refusal(jwksVerifier(url).verify(await jwks.sign('RS256', { sub: 'a' })));
      expect(error.code).toBe('unavailable');
      expect(error.status).toBe(503);
    } finally {
      await new Promise((resolve) => broken.close(resolve));
    }
  });
});
