/**
 * Mints an HS256 token for trying an API node with AUTH_JWT_SECRET (tests, the chat page, curl):
 *   AUTH_JWT_SECRET=... npm run token -- alice [--org <organisationId>] [--org-role admin] [--role admin] [--expires 3600]
 * It signs with the same AUTH_JWT_SECRET, AUTH_ISSUER, AUTH_AUDIENCE and AUTH_ORG_CLAIM the node reads,
 * and prints the token alone on stdout. A real deployment's tokens come from its identity provider.
 */
import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    org: { type: 'string' },
    'org-role': { type: 'string' },
    role: { type: 'string' },
    expires: { type: 'string', default: '3600' },
  },
});

const secret = process.env.AUTH_JWT_SECRET;
const sub = positionals[0];
const seconds = Number(values.expires);
if (!secret || !sub || !Number.isInteger(seconds) || seconds <= 0) {
  process.stderr.write(
    'usage: AUTH_JWT_SECRET=<secret> npm run token -- <sub> [--org <organisationId>] [--org-role admin] [--role admin] [--expires <seconds>]\n',
  );
  process.exit(2);
}

const claims: Record<string, string> = {};
if (values.org !== undefined) claims[process.env.AUTH_ORG_CLAIM || 'org'] = values.org;
if (values['org-role'] !== undefined) claims.org_role = values['org-role'];
if (values.role !== undefined) claims.role = values.role;
const jwt = new SignJWT(claims)
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setSubject(sub)
  .setIssuedAt()
  .setExpirationTime(`${seconds}s`);
if (process.env.AUTH_ISSUER) jwt.setIssuer(process.env.AUTH_ISSUER);
const audience = process.env.AUTH_AUDIENCE?.split(',')[0]?.trim();
if (audience) jwt.setAudience(audience);
process.stdout.write(`${await jwt.sign(new TextEncoder().encode(secret))}\n`);
