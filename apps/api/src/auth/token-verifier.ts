import type { JWTPayload, JWTVerifyGetKey } from 'jose';
import { createRemoteJWKSet, errors, jwtVerify } from 'jose';
import { ApiError } from '../api-error.ts';
import type { Principal } from './principal.ts';

/** The same bounds as a `userId` in frames and bodies. */
const MAX_ID_LENGTH = 200;

/** The organisation-admin claim: `org_role: "admin"` (or an array holding "admin"). */
export const ORG_ROLE_CLAIM = 'org_role';
/** The admin claim: `role: "admin"` (or an array holding "admin"). */
export const ROLE_CLAIM = 'role';

export type VerifierKey =
  /** HS256 with a shared secret (AUTH_JWT_SECRET). */
  | { kind: 'secret'; secret: string }
  /** RS256 or ES256 with the keys an identity provider publishes (AUTH_JWKS_URL). */
  | { kind: 'jwks'; url: string };

export interface VerifierOptions {
  key: VerifierKey;
  /** Checked when set: the token's `iss` must equal it. */
  issuer?: string | undefined;
  /** Checked when set: the token's `aud` must hold one of them. */
  audience?: string[] | undefined;
  /** The claim that names the user's organisation (default `org`). */
  organisationClaim: string;
  /** The organisation of a user whose token names none. */
  defaultOrganisationId: string;
}

export interface TokenVerifier {
  /**
   * The principal of a valid token. Throws ApiError `token_expired` for an expired one,
   * `unauthorized` for any other invalid token, `unavailable` when the key set cannot be read.
   * Messages say what is wrong and never repeat the token.
   */
  verify(token: string): Promise<Principal>;
}

/** Verifies JWTs with `jose`: the signature and algorithm, `exp` whenever present, `iss` and `aud` when configured. */
export function createTokenVerifier(options: VerifierOptions): TokenVerifier {
  const secretKey = options.key.kind === 'secret' ? new TextEncoder().encode(options.key.secret) : undefined;
  // Fetched on first use, cached, and fetched again (at most every 30 s) when a token names an unknown key id.
  const keySet: JWTVerifyGetKey | undefined = options.key.kind === 'jwks' ? createRemoteJWKSet(new URL(options.key.url)) : undefined;
  const algorithms = options.key.kind === 'secret' ? ['HS256'] : ['RS256', 'ES256'];
  const claimOptions = {
    algorithms,
    ...(options.issuer === undefined ? {} : { issuer: options.issuer }),
    ...(options.audience === undefined ? {} : { audience: options.audience }),
  };

  return {
    async verify(token) {
      let payload: JWTPayload;
      try {
        const result = secretKey
          ? await jwtVerify(token, secretKey, claimOptions)
          : await jwtVerify(token, keySet as JWTVerifyGetKey, claimOptions);
        payload = result.payload;
      } catch (err) {
        throw toApiError(err);
      }
      return principalOf(payload, options);
    },
  };
}

function principalOf(payload: JWTPayload, options: VerifierOptions): Principal {
  const sub = payload.sub;
  if (typeof sub !== 'string' || sub.length === 0 || sub.length > MAX_ID_LENGTH) {
    throw new ApiError('unauthorized', `token: the sub claim must be a string of 1 to ${MAX_ID_LENGTH} characters`);
  }
  const org = payload[options.organisationClaim];
  if (org !== undefined && (typeof org !== 'string' || org.length === 0 || org.length > MAX_ID_LENGTH)) {
    throw new ApiError(
      'unauthorized',
      `token: the ${options.organisationClaim} claim must be a string of 1 to ${MAX_ID_LENGTH} characters`,
    );
  }
  return {
    userId: sub,
    organisationId: org ?? options.defaultOrganisationId,
    admin: holdsAdmin(payload[ROLE_CLAIM]),
    orgAdmin: holdsAdmin(payload[ORG_ROLE_CLAIM]),
    expiresAt: typeof payload.exp === 'number' ? payload.exp * 1000 : undefined,
  };
}

function holdsAdmin(value: unknown): boolean {
  return value === 'admin' || (Array.isArray(value) && value.includes('admin'));
}

/** Keeps jose's reason (which claim, which check) and drops anything that could echo the token. */
function toApiError(err: unknown): ApiError {
  if (err instanceof errors.JWTExpired) return new ApiError('token_expired', 'token expired; get a fresh one');
  if (err instanceof errors.JWTClaimValidationFailed) {
    const what = err.claim === 'iss' ? 'issuer' : err.claim === 'aud' ? 'audience' : `${err.claim} claim`;
    return new ApiError('unauthorized', `token: the ${what} is not accepted (${err.reason})`);
  }
  if (err instanceof errors.JWSSignatureVerificationFailed) return new ApiError('unauthorized', 'token: the signature is not valid');
  if (err instanceof errors.JOSEAlgNotAllowed) return new ApiError('unauthorized', 'token: its signing algorithm is not accepted');
  if (err instanceof errors.JWKSNoMatchingKey) return new ApiError('unauthorized', 'token: no key of the key set matches it');
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid || err instanceof errors.JOSENotSupported) {
    return new ApiError('unauthorized', 'token: not a well-formed JWT');
  }
  if (err instanceof errors.JWKSMultipleMatchingKeys) return new ApiError('unauthorized', 'token: it matches several keys; give a kid');
  // A key set that cannot be fetched or parsed (timeout, HTTP error, bad JSON): the token may be fine.
  const unavailable = new ApiError('unavailable', 'tokens cannot be verified right now: the key set could not be read; try again');
  unavailable.cause = err;
  return unavailable;
}
