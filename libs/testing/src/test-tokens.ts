import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CryptoKey, JWK, JWTPayload } from 'jose';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/** An HS256 secret long enough for AUTH_JWT_SECRET (32 characters or more). */
export const TEST_JWT_SECRET = 'ragstream-test-secret-0123456789abcdef-not-for-production';

export interface TestTokenOptions {
  /** Seconds from now until `exp`; negative for a token that has already expired. Unset: no `exp`. */
  expiresIn?: number;
  issuer?: string;
  audience?: string | string[];
}

/** A JWT signed with HS256, as an identity provider sharing AUTH_JWT_SECRET would issue it. */
export function signHs256(secret: string, claims: JWTPayload, options: TestTokenOptions = {}): Promise<string> {
  return build(claims, options).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

function build(claims: JWTPayload, options: TestTokenOptions): SignJWT {
  const now = Math.floor(Date.now() / 1000);
  const jwt = new SignJWT(claims).setIssuedAt(now);
  if (options.expiresIn !== undefined) jwt.setExpirationTime(now + options.expiresIn);
  if (options.issuer !== undefined) jwt.setIssuer(options.issuer);
  if (options.audience !== undefined) jwt.setAudience(options.audience);
  return jwt;
}

export type AsymmetricAlg = 'RS256' | 'ES256';

interface SigningKey {
  alg: AsymmetricAlg;
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

/**
 * An identity provider in miniature: RS256 and ES256 key pairs from jose's generateKeyPair,
 * their public halves served as a JSON Web Key Set on a local HTTP port (AUTH_JWKS_URL).
 */
export class TestJwks {
  private constructor(
    private readonly server: Server,
    private readonly keys: SigningKey[],
    readonly url: string,
  ) {}

  /** Counts the key set's downloads (a verifier caches it). */
  requests = 0;

  static async start(): Promise<TestJwks> {
    const keys = await Promise.all((['RS256', 'ES256'] as const).map((alg) => signingKey(alg, `test-${alg.toLowerCase()}`)));
    let jwks: TestJwks | undefined;
    const server = createServer((req, res) => {
      if (jwks) jwks.requests += 1;
      if (req.url !== '/.well-known/jwks.json') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    jwks = new TestJwks(server, keys, `http://127.0.0.1:${port}/.well-known/jwks.json`);
    return jwks;
  }

  /** A token signed with the served key of `alg`. */
  sign(alg: AsymmetricAlg, claims: JWTPayload, options: TestTokenOptions = {}): Promise<string> {
    const key = this.keys.find((k) => k.alg === alg);
    if (!key) throw new Error(`no ${alg} key`);
    return build(claims, options).setProtectedHeader({ alg, kid: key.kid, typ: 'JWT' }).sign(key.privateKey);
  }

  /**
   * A forgery: signed with a fresh key that is not in the set, under the `kid` of the served key
   * of `alg` (`'served'`: the signature does not verify) or under a `kid` the set lacks.
   */
  async forge(alg: AsymmetricAlg, claims: JWTPayload, kid: 'served' | 'unknown' = 'served'): Promise<string> {
    const served = this.keys.find((k) => k.alg === alg);
    if (!served) throw new Error(`no ${alg} key`);
    const impostor = await signingKey(alg, kid === 'served' ? served.kid : 'unknown-kid');
    return build(claims, {}).setProtectedHeader({ alg, kid: impostor.kid, typ: 'JWT' }).sign(impostor.privateKey);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

async function signingKey(alg: AsymmetricAlg, kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg);
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicJwk };
}
