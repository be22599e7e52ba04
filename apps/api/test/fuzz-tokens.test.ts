import type { ErrorFrame } from '@ragstream/protocol';
import { SioChatClient, signHs256, TEST_JWT_SECRET, TestCluster, WsChatClient } from '@ragstream/testing';
import fc from 'fast-check';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

/** `npm run fuzz` sets FUZZ_RUNS (10,000 per property); `npm test` runs fewer. */
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);
/** Each case opens a connection or sends a request: a few milliseconds on a busy machine. */
const TIMEOUT_MS = 60_000 + RUNS * 60;
const ISSUER = 'https://id.example.test';
const AUDIENCE = 'ragstream';
const REFUSALS = new Set(['unauthorized', 'token_expired']);

/** How a token that must be refused is made (garbage is printable ASCII: anything else is no HTTP header value). */
type BadToken =
  | { kind: 'garbage'; text: string }
  | { kind: 'forged'; sub: string; secret: string }
  | { kind: 'expired'; sub: string; agoSeconds: number }
  | { kind: 'audience'; sub: string; audience: string }
  | { kind: 'issuer'; sub: string; issuer: string }
  | { kind: 'no-sub'; claims: Record<string, string> }
  | { kind: 'tampered'; sub: string };

const sub = fc.string({ minLength: 1, maxLength: 24 });
const badToken: fc.Arbitrary<BadToken> = fc.oneof(
  fc.record({
    kind: fc.constant('garbage' as const),
    text: fc.oneof(fc.stringMatching(/^[\x21-\x7e]{0,200}$/), fc.base64String({ maxLength: 300 })),
  }),
  fc.record({
    kind: fc.constant('forged' as const),
    sub,
    secret: fc.string({ minLength: 32, maxLength: 64 }).filter((s) => s !== TEST_JWT_SECRET),
  }),
  fc.record({ kind: fc.constant('expired' as const), sub, agoSeconds: fc.integer({ min: 1, max: 10_000_000 }) }),
  fc.record({ kind: fc.constant('audience' as const), sub, audience: fc.string({ maxLength: 30 }).filter((a) => a !== AUDIENCE) }),
  fc.record({ kind: fc.constant('issuer' as const), sub, issuer: fc.string({ maxLength: 30 }).filter((i) => i !== ISSUER) }),
  fc.record({ kind: fc.constant('no-sub' as const), claims: fc.dictionary(fc.constantFrom('org', 'role', 'name'), fc.string()) }),
  fc.record({ kind: fc.constant('tampered' as const), sub }),
);

/** A real token of another user, its payload swapped for one naming `sub`: the signature no longer matches. */
async function tampered(sub: string): Promise<string> {
  const real = await signHs256(TEST_JWT_SECRET, { sub: 'user-2' }, { issuer: ISSUER, audience: AUDIENCE, expiresIn: 600 });
  const [header, , signature] = real.split('.');
  const payload = Buffer.from(JSON.stringify({ sub, iss: ISSUER, aud: AUDIENCE, role: 'admin' })).toString('base64url');
  return `${header}.${payload}.${signature}`;
}

function mint(token: BadToken): Promise<string> {
  const valid = { issuer: ISSUER, audience: AUDIENCE, expiresIn: 600 };
  switch (token.kind) {
    case 'garbage':
      return Promise.resolve(token.text);
    case 'forged':
      return signHs256(token.secret, { sub: token.sub, role: 'admin' }, valid);
    case 'expired':
      return signHs256(TEST_JWT_SECRET, { sub: token.sub }, { ...valid, expiresIn: -token.agoSeconds });
    case 'audience':
      return signHs256(TEST_JWT_SECRET, { sub: token.sub }, { ...valid, audience: token.audience });
    case 'issuer':
      return signHs256(TEST_JWT_SECRET, { sub: token.sub }, { ...valid, issuer: token.issuer });
    case 'no-sub':
      return signHs256(TEST_JWT_SECRET, token.claims, valid);
    case 'tampered':
      return tampered(token.sub);
  }
}

describe('forged, expired and foreign tokens against a live API node with authentication on (fast-check)', () => {
  let cluster: TestCluster;
  let api: string;
  let chatId: string;
  const secret = `secret-of-user-2-${Date.now()}`;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: {
        AUTH_JWT_SECRET: TEST_JWT_SECRET,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: '3',
        // Thousands of refused handshakes and requests from one place: the limits have their own tests.
        CONNECTIONS_PER_USER: '0',
        FRAMES_PER_SECOND_PER_CONNECTION: '0',
      },
    });
    api = cluster.api(0);
    const owner = await signHs256(TEST_JWT_SECRET, { sub: 'user-2' }, { issuer: ISSUER, audience: AUDIENCE, expiresIn: 3600 });
    const created = await fetch(`${api}/chat/`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner}` },
      body: JSON.stringify({ userId: 'user-2', title: 'private' }),
    });
    expect(created.status).toBe(201);
    chatId = ((await created.json()) as { id: string }).id;
    const stored = await fetch(`${api}/chat/${chatId}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${owner}` },
      body: JSON.stringify({ text: secret }),
    });
    expect(stored.status).toBe(201);
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** The private chat holds its one message, and no chat was created by anyone refused. */
  async function expectNothingChanged(): Promise<void> {
    const owner = await signHs256(TEST_JWT_SECRET, { sub: 'user-2' }, { issuer: ISSUER, audience: AUDIENCE, expiresIn: 600 });
    const headers = { authorization: `Bearer ${owner}` };
    const messages = (await (await fetch(`${api}/chat/${chatId}/messages`, { headers })).json()) as { items: { text: string }[] };
    expect(messages.items.map((m) => m.text)).toEqual([secret]);
    const chats = (await (await fetch(`${api}/chat/user/user-2`, { headers })).json()) as { items: unknown[] };
    expect(chats.items).toHaveLength(1);
    expect((await fetch(`${api}/readyz`)).status).toBe(200);
  }

  it(
    'REST: every bad token is 401 with a known code, on reads and writes, and nothing is stored',
    async () => {
      const requests = fc.constantFrom(
        { method: 'GET', path: () => `/chat/${chatId}/messages`, body: undefined },
        { method: 'POST', path: () => '/chat/', body: { title: 'not mine' } },
        { method: 'POST', path: () => `/chat/${chatId}/messages`, body: { text: 'injected', generate: true } },
        { method: 'GET', path: () => '/usage', body: undefined },
      );
      await fc.assert(
        fc.asyncProperty(badToken, requests, async (bad, request) => {
          const response = await fetch(`${api}${request.path()}`, {
            method: request.method,
            headers: { 'content-type': 'application/json', authorization: `Bearer ${await mint(bad)}` },
            ...(request.body === undefined ? {} : { body: JSON.stringify(request.body) }),
          });
          const text = await response.text();
          expect(response.status, text).toBe(401);
          expect(REFUSALS.has((JSON.parse(text) as { code: string }).code), text).toBe(true);
          expect(text).not.toContain(secret);
        }),
        { numRuns: RUNS },
      );
      console.log(`fuzz tokens: REST: ${RUNS} cases`);
      await expectNothingChanged();
    },
    TIMEOUT_MS,
  );

  it(
    'WebSocket: every bad token gets an error frame and close 4401 before the chat is opened',
    async () => {
      await fc.assert(
        fc.asyncProperty(badToken, async (bad) => {
          const ws = await WsChatClient.connect(api, chatId, { token: await mint(bad) });
          const closed = await ws.closed;
          expect(closed.code).toBe(4401);
          const [frame, ...rest] = ws.frames;
          expect(rest).toEqual([]);
          expect(frame?.mt).toBe('error');
          expect(REFUSALS.has((frame as ErrorFrame).code)).toBe(true);
        }),
        { numRuns: RUNS },
      );
      console.log(`fuzz tokens: WebSocket: ${RUNS} cases`);
      await expectNothingChanged();
    },
    TIMEOUT_MS,
  );

  it(
    'Socket.IO: every bad token fails the handshake with connect_error unauthorized or token_expired',
    async () => {
      await fc.assert(
        fc.asyncProperty(badToken, async (bad) => {
          const refused = await SioChatClient.connect(api, { chatId, token: await mint(bad) }).then(
            (client) => {
              client.close();
              return undefined;
            },
            (err: Error & { data?: { code?: string } }) => err.data?.code,
          );
          expect(REFUSALS.has(refused ?? 'connected')).toBe(true);
        }),
        { numRuns: RUNS },
      );
      console.log(`fuzz tokens: Socket.IO: ${RUNS} cases`);
      await expectNothingChanged();
    },
    TIMEOUT_MS,
  );
});
