import type { Chat, ErrorFrame, GenerationFrame, ServerFrame } from '@ragstream/protocol';
import type { FrameCollector, HttpResult } from '@ragstream/testing';
import {
  HttpClient,
  SioChatClient,
  SseChatClient,
  signHs256,
  TEST_JWT_SECRET,
  TestCluster,
  TestJwks,
  WsChatClient,
} from '@ragstream/testing';
import type { JWTPayload } from 'jose';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { ChatMessage, Page } from './helpers.ts';
import { expectError, generationJobs, messagesOf, openStore, UNKNOWN_ID } from './helpers.ts';

const ISSUER = 'https://id.ragstream.test';
const AUDIENCE = 'ragstream-api';
const DEFAULT_ORG = '000000000000000000000001';
/** 6 s per answer: a token that lives 1 to 2 s expires in the middle of one. */
const TOKENS = 240;
const TOKENS_PER_SECOND = 40;

/** A token as the cluster's identity provider would issue it: its issuer and audience, ten minutes. */
function token(sub: string, claims: JWTPayload = {}, options: Parameters<typeof signHs256>[2] = {}): Promise<string> {
  return signHs256(TEST_JWT_SECRET, { sub, ...claims }, { issuer: ISSUER, audience: AUDIENCE, expiresIn: 600, ...options });
}

/** Tokens the API must refuse, each with the code it answers. */
async function badTokens(sub: string): Promise<[string, string, 'unauthorized' | 'token_expired'][]> {
  return [
    ['forged', await signHs256(`${TEST_JWT_SECRET}-forged`, { sub }, { issuer: ISSUER, audience: AUDIENCE }), 'unauthorized'],
    ['expired', await token(sub, {}, { expiresIn: -30 }), 'token_expired'],
    ['another audience', await token(sub, {}, { audience: 'billing-api' }), 'unauthorized'],
    ['another issuer', await token(sub, {}, { issuer: 'https://evil.example' }), 'unauthorized'],
    ['not a JWT', 'definitely-not-a-jwt', 'unauthorized'],
  ];
}

function generationFrames(collector: FrameCollector, generationId: string): GenerationFrame[] {
  return collector.ofGeneration(generationId) as GenerationFrame[];
}

function deltas(frames: GenerationFrame[]): string {
  return frames.map((f) => (f.mt === 'chat_message_bot_partial' ? f.delta : '')).join('');
}

function seqs(frames: { seq: number }[]): number[] {
  return frames.map((f) => f.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: Math.max(0, to - from + 1) }, (_, i) => from + i);
}

const isError =
  (code: string) =>
  (frame: ServerFrame): boolean =>
    frame.mt === 'error' && frame.code === code;

describe('authentication and ownership on every transport (HS256, issuer and audience checked; 1 API node, 1 worker)', () => {
  let cluster: TestCluster;
  let api: string;
  let anonymous: HttpClient;
  let alice: HttpClient;
  let bob: HttpClient;
  let aliceToken: string;
  let bobToken: string;
  let bobChat: string;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      env: {
        AUTH_JWT_SECRET: TEST_JWT_SECRET,
        AUTH_ISSUER: ISSUER,
        AUTH_AUDIENCE: AUDIENCE,
        LLM_PROVIDER: 'synthetic',
        SYNTHETIC_TOKENS: String(TOKENS),
        SYNTHETIC_TOKENS_PER_SECOND: String(TOKENS_PER_SECOND),
      },
    });
    api = cluster.api(0);
    anonymous = new HttpClient(api);
    [aliceToken, bobToken] = await Promise.all([token('alice'), token('bob')]);
    alice = anonymous.as(aliceToken);
    bob = anonymous.as(bobToken);
    bobChat = await bob.createChat('bob');
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  /** The process is unharmed: it still serves a valid request. */
  async function stillServes(): Promise<void> {
    expect((await anonymous.get('/healthz')).status).toBe(200);
    expect((await alice.get<Page<Chat>>('/chat/user/alice')).status).toBe(200);
  }

  describe('REST', () => {
    it('the user is the token: a chat created without userId is the caller’s, in the default organisation', async () => {
      const created = await alice.post<Chat>('/chat/', { title: 'mine' });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ userId: 'alice', organisationId: DEFAULT_ORG, title: 'mine' });
      // Repeating one's own sub is fine.
      expect((await alice.post<Chat>('/chat/', { userId: 'alice' })).body.userId).toBe('alice');
      const listed = await alice.get<Page<Chat>>('/chat/user/alice');
      expect(listed.body.items.map((c) => c.id)).toContain(created.body.id);
      expect(listed.body.items.every((c) => c.userId === 'alice')).toBe(true);
    });

    it('no token, and forged, expired, other-audience and other-issuer tokens get 401 with a clear code', async () => {
      const none = await fetch(`${api}/chat/user/alice`);
      expect(none.status).toBe(401);
      expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await none.json()).toEqual({ code: 'unauthorized', message: expect.stringMatching(/token is required/) });
      for (const [name, bad, code] of await badTokens('alice')) {
        const result = await anonymous.as(bad).get('/chat/user/alice');
        expect({ name, status: result.status, code: (result.body as { code: string }).code }).toEqual({ name, status: 401, code });
        expectError(result, 401, code);
      }
      // A token in the query string counts only for event streams.
      expectError(await anonymous.get(`/chat/user/alice?token=${aliceToken}`), 401, 'unauthorized');
      await stillServes();
    });

    it('someone else’s chat looks exactly like a chat that does not exist (404 chat_not_found) on every route', async () => {
      const routes: [string, string, unknown?][] = [
        ['GET', '/chat/:id'],
        ['PUT', '/chat/:id', { title: 'stolen' }],
        ['DELETE', '/chat/:id'],
        ['GET', '/chat/:id/messages'],
        ['POST', '/chat/:id/messages', { text: 'hi', generate: true }],
        ['POST', '/chat/:id/messages', { text: 'hi', role: 'bot' }],
        ['GET', '/chat/:id/full'],
        ['POST', '/chat/:id/stop'],
        ['GET', '/chat/ws/:id/status'],
        ['PUT', `/chat/:id/messages/${UNKNOWN_ID}`, { text: 'x' }],
        ['DELETE', `/chat/:id/messages/${UNKNOWN_ID}`],
      ];
      for (const [method, path, body] of routes) {
        const theirs = await alice.request(method, path.replace(':id', bobChat), body);
        const missing = await alice.request(method, path.replace(':id', UNKNOWN_ID), body);
        expectError(theirs, 404, 'chat_not_found');
        expect({ method, path, status: theirs.status }).toEqual({ method, path, status: missing.status });
        expect((theirs.body as { message: string }).message).toBe(
          (missing.body as { message: string }).message.replace(UNKNOWN_ID, bobChat),
        );
      }
      // Bob's chat is untouched.
      expect((await bob.get<Chat>(`/chat/${bobChat}`)).body).toMatchObject({ id: bobChat, userId: 'bob', title: 'New chat' });
      expect(await messagesOf(bob, bobChat)).toEqual([]);
    });

    it('GET /chat/user/:userId for another user is 403 forbidden', async () => {
      expectError(await alice.get('/chat/user/bob'), 403, 'forbidden');
      expectError(await alice.get('/chat/user/nobody-at-all'), 403, 'forbidden');
    });

    it('GET /usage reports the token’s user; another user’s usage is 403, and the organisation’s needs an admin', async () => {
      const own = await alice.get<{ scope: string; id: string }>('/usage');
      expect(own.status).toBe(200);
      expect(own.body).toMatchObject({ scope: 'user', id: 'alice' });
      expect((await alice.get<{ id: string }>('/usage?userId=alice')).body.id).toBe('alice');
      expectError(await alice.get('/usage?userId=bob'), 403, 'forbidden');
      expect((await alice.get(`/organisations/${DEFAULT_ORG}/usage`)).status).toBe(401);
      const admin = anonymous.as(await token('root', { role: 'admin' }));
      expect((await admin.get<{ scope: string }>(`/organisations/${DEFAULT_ORG}/usage`)).body).toMatchObject({ scope: 'organisation' });
    });

    it('a body whose userId is not the token’s sub gets 403 and nothing is stored or enqueued', async () => {
      const chatId = await alice.createChat('alice');
      const before = (await alice.get<Page<Chat>>('/chat/user/alice')).body.items.length;
      expectError(await alice.post('/chat/', { userId: 'bob' }), 403, 'forbidden');
      expect((await alice.get<Page<Chat>>('/chat/user/alice')).body.items).toHaveLength(before);
      expect((await bob.get<Page<Chat>>('/chat/user/bob')).body.items.map((c) => c.id)).toEqual([bobChat]);

      const sent = await alice.post(`/chat/${chatId}/messages`, { text: 'as bob', userId: 'bob', generate: true, clientMessageId: 'x' });
      expectError(sent, 403, 'forbidden');
      expect(await messagesOf(alice, chatId)).toEqual([]);
      const store = await openStore(cluster);
      try {
        expect((await store.listMessages(chatId, { limit: 10 })).items).toEqual([]);
      } finally {
        await store.close();
      }
      expect((await generationJobs(cluster)).filter((j) => j.chatId === chatId)).toEqual([]);
    });

    it('a message with generate: true needs no userId: the answer is for the token’s user', async () => {
      const chatId = await alice.createChat('alice');
      const sent = await alice.post<ChatMessage & { generationId: string }>(`/chat/${chatId}/messages`, { text: 'Hello', generate: true });
      expect(sent.status).toBe(201);
      expect(sent.body.generationId).toEqual(expect.any(String));
      await alice.post(`/chat/${chatId}/stop`);
    });
  });

  describe('organisations and documents: membership reads, org_role or role admin changes', () => {
    let orgB: string;
    let carolAdmin: HttpClient;
    let carol: HttpClient;
    let root: HttpClient;

    beforeAll(async () => {
      root = anonymous.as(await token('root', { role: 'admin' }));
      const created = await root.post<{ id: string }>('/organisations', { name: 'Org B' });
      expect(created.status).toBe(201);
      orgB = created.body.id;
      carol = anonymous.as(await token('carol', { org: orgB }));
      carolAdmin = anonymous.as(await token('carol-admin', { org: orgB, org_role: 'admin' }));
    });

    it('creating an organisation needs role admin; a member lists only their own organisation', async () => {
      expectError(await carolAdmin.post('/organisations', { name: 'Mine now' }), 403, 'forbidden');
      expect((await carol.get<Page<{ id: string }>>('/organisations')).body).toEqual({
        items: [expect.objectContaining({ id: orgB })],
        nextCursor: null,
      });
      expect((await alice.get<Page<{ id: string }>>('/organisations')).body.items.map((o) => o.id)).toEqual([DEFAULT_ORG]);
      const all = (await root.get<Page<{ id: string }>>('/organisations')).body.items.map((o) => o.id);
      expect(all).toEqual(expect.arrayContaining([DEFAULT_ORG, orgB]));
    });

    it('another organisation reads as one that does not exist; a chat cannot be placed in it', async () => {
      for (const path of [`/organisations/${orgB}`, `/organisations/${orgB}/documents`, `/organisations/${orgB}/documents/${UNKNOWN_ID}`]) {
        expectError(await alice.get(path), 404, 'organisation_not_found');
      }
      expectError(await alice.put(`/organisations/${orgB}`, { name: 'Taken' }), 404, 'organisation_not_found');
      expectError(await alice.post('/chat/', { organisationId: orgB }), 404, 'organisation_not_found');
      // A member's chat goes to their organisation.
      expect((await carol.post<Chat>('/chat/', {})).body.organisationId).toBe(orgB);
    });

    it('a member reads but cannot change; the org admin and role admin can; a refused upload stores nothing', async () => {
      const upload = { title: 'Policy', format: 'text', content: 'Parcels ship within two days.' };
      expectError(await carol.post(`/organisations/${orgB}/documents`, upload), 403, 'forbidden');
      expectError(await carol.put(`/organisations/${orgB}`, { name: 'Renamed' }), 403, 'forbidden');
      expect((await carol.get<Page<unknown>>(`/organisations/${orgB}/documents`)).body.items).toEqual([]);

      const doc = await carolAdmin.post<{ id: string }>(`/organisations/${orgB}/documents`, upload);
      expect(doc.status).toBe(202);
      expect((await carolAdmin.put<{ name: string }>(`/organisations/${orgB}`, { name: 'Org B renamed' })).body.name).toBe('Org B renamed');
      expect((await carol.get<{ id: string }>(`/organisations/${orgB}/documents/${doc.body.id}`)).body.id).toBe(doc.body.id);
      expectError(await carol.delete(`/organisations/${orgB}/documents/${doc.body.id}`), 403, 'forbidden');
      // An org admin of B is nobody in the default organisation.
      expectError(await carolAdmin.post(`/organisations/${DEFAULT_ORG}/documents`, upload), 404, 'organisation_not_found');
      expect((await root.delete(`/organisations/${orgB}/documents/${doc.body.id}`)).status).toBe(204);
    });
  });

  describe('WebSocket', () => {
    it('accepts the token as ?token=, as the bearer subprotocol and as an Authorization header; the user is its sub', async () => {
      const chatId = await alice.createChat('alice');
      const ways: [string, () => Promise<WsChatClient>][] = [
        ['query', () => WsChatClient.connect(api, chatId, { token: aliceToken })],
        ['subprotocol', () => WsChatClient.connect(api, chatId, {}, { protocols: ['bearer', aliceToken] })],
        ['header', () => WsChatClient.connect(api, chatId, {}, { headers: { authorization: `Bearer ${aliceToken}` } })],
      ];
      for (const [way, open] of ways) {
        const ws = await open();
        try {
          if (way === 'subprotocol') expect(ws.protocol).toBe('bearer');
          ws.send({ mt: 'message_upload', message: `via ${way}`, clientMessageId: `ws-${way}` });
          const confirm = await ws.collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === `ws-${way}`);
          await ws.collector.waitForMt('typing_indicator', (f) => f.generationId === confirm.generationId);
          ws.send({ mt: 'stop' });
          await ws.collector.waitForTerminal(confirm.generationId ?? '');
          expect(ws.isOpen).toBe(true);
        } finally {
          await ws.close();
        }
      }
    });

    it('refuses a missing, forged, expired or other-audience token: an error frame, then close 4401; the node keeps serving', async () => {
      const chatId = await alice.createChat('alice');
      const cases: [string, string | undefined, string][] = [['no token', undefined, 'unauthorized'], ...(await badTokens('alice'))];
      for (const [name, bad, code] of cases) {
        const ws = await WsChatClient.connect(api, chatId, bad === undefined ? {} : { token: bad });
        const closed = await ws.closed;
        expect({ name, frames: ws.frames }).toEqual({ name, frames: [{ mt: 'error', code, message: expect.any(String) }] });
        expect({ name, code: closed.code }).toEqual({ name, code: 4401 });
        expect(closed.reason.length).toBeGreaterThan(0);
      }
      await stillServes();
      expect(await messagesOf(alice, chatId)).toEqual([]);
    });

    it('a frame whose userId is not the token’s sub gets error forbidden, nothing is stored, and the socket stays usable', async () => {
      const chatId = await alice.createChat('alice');
      const ws = await WsChatClient.connect(api, chatId, { token: aliceToken });
      try {
        ws.send({ mt: 'message_upload', message: 'I am bob', userId: 'bob', clientMessageId: 'spoof' });
        const refused = await ws.collector.waitFor(isError('forbidden'));
        expect(refused).toMatchObject({ clientMessageId: 'spoof', message: expect.stringMatching(/sub/) });
        expect(await messagesOf(alice, chatId)).toEqual([]);
        expect((await generationJobs(cluster)).filter((j) => j.chatId === chatId)).toEqual([]);
        // Its own userId, or none, is fine.
        ws.send({ mt: 'message_upload', message: 'I am alice', userId: 'alice', clientMessageId: 'own' });
        const confirm = await ws.collector.waitForMt('message_upload_confirm', (f) => f.clientMessageId === 'own');
        ws.send({ mt: 'stop' });
        await ws.collector.waitForTerminal(confirm.generationId ?? '');
        expect((await messagesOf(alice, chatId)).filter((m) => m.role === 'user').map((m) => m.text)).toEqual(['I am alice']);
      } finally {
        await ws.close();
      }
    });

    it('someone else’s chat: error chat_not_found and close 4404, as for a chat that does not exist', async () => {
      for (const chatId of [bobChat, UNKNOWN_ID]) {
        const ws = await WsChatClient.connect(api, chatId, { token: aliceToken });
        const closed = await ws.closed;
        expect(ws.frames).toEqual([{ mt: 'error', code: 'chat_not_found', message: `chat ${chatId} does not exist` }]);
        expect(closed.code).toBe(4404);
      }
    });

    it('a token that expires mid-answer: error token_expired, close 4401 with a reason; the old token is refused, a fresh one resumes', async () => {
      const chatId = await alice.createChat('alice');
      const short = await token('alice', {}, { expiresIn: 2 });
      const ws = await WsChatClient.connect(api, chatId, { token: short });
      ws.send({ mt: 'message_upload', message: 'A long answer, please', clientMessageId: 'expiring' });
      const confirm = await ws.collector.waitForMt('message_upload_confirm');
      const generationId = confirm.generationId ?? '';
      const expired = await ws.collector.waitFor<ErrorFrame>(isError('token_expired'), 10_000);
      expect(expired.message).toMatch(/fresh token/);
      const closed = await ws.closed;
      expect(closed).toEqual({ code: 4401, reason: expect.stringMatching(/token expired/) });
      const before = generationFrames(ws.collector, generationId);
      expect(before.some((f) => f.mt === 'chat_message_bot_complete')).toBe(false);
      const lastSeq = before.at(-1)?.seq ?? 0;

      const stale = await WsChatClient.connect(api, chatId, { token: short, generationId, lastSeq });
      await stale.closed;
      expect(stale.frames).toEqual([{ mt: 'error', code: 'token_expired', message: expect.any(String) }]);

      const fresh = await WsChatClient.connect(api, chatId, { token: await token('alice'), generationId, lastSeq });
      try {
        const done = await fresh.collector.waitForTerminal(generationId);
        expect(done.status).toBe('complete');
        const after = generationFrames(fresh.collector, generationId);
        expect([...seqs(before), ...seqs(after)]).toEqual(range(1, done.seq));
        expect(deltas(before) + deltas(after)).toBe(done.text);
      } finally {
        await fresh.close();
      }
    });
  });

  describe('Socket.IO', () => {
    it('auth.token: chat frames, and the user channel of the token’s user (never another’s)', async () => {
      const user = await SioChatClient.connect(api, { token: aliceToken });
      const spy = await SioChatClient.connect(api, { token: bobToken });
      try {
        const chatId = await alice.createChat('alice');
        expect((await user.userFrames.waitForMt('chat_created', (f) => f.chat.id === chatId)).chat.userId).toBe('alice');
        const client = await SioChatClient.connect(api, { chatId, token: aliceToken });
        try {
          client.emit('message_upload', { message: 'Hello', clientMessageId: 'sio-1' });
          const confirm = await client.collector.waitForMt('message_upload_confirm');
          await user.userFrames.waitForMt('answer_started', (f) => f.generationId === confirm.generationId);
          client.emit('stop');
          expect((await client.collector.waitForTerminal(confirm.generationId ?? '')).status).toBe('stopped');
        } finally {
          client.close();
        }
        expect(spy.userFrames.frames).toEqual([]);
      } finally {
        user.close();
        spy.close();
      }
    });

    it('refuses missing and bad tokens and a handshake userId of another user with connect_error; the node keeps serving', async () => {
      const chatId = await alice.createChat('alice');
      const cases: [string, Record<string, string>, string][] = [
        ['no token', { chatId }, 'unauthorized'],
        ['no token, user-level', { userId: 'alice' }, 'unauthorized'],
        ...(await badTokens('alice')).map(([name, bad, code]): [string, Record<string, string>, string] => [
          name,
          { chatId, token: bad },
          code,
        ]),
        ['userId of another', { chatId, token: aliceToken, userId: 'bob' }, 'forbidden'],
        ['user-level as another', { token: aliceToken, userId: 'bob' }, 'forbidden'],
      ];
      for (const [name, auth, code] of cases) {
        const error = await SioChatClient.connect(api, auth).then(
          (client) => {
            client.close();
            return undefined;
          },
          (err: Error & { data?: { code?: string } }) => err,
        );
        expect({ name, code: error?.data?.code }).toEqual({ name, code });
      }
      await stillServes();
    });

    it('someone else’s chat fails the handshake with chat_not_found; a spoofed userId in a frame is refused and nothing stored', async () => {
      const theirs = await SioChatClient.connect(api, { chatId: bobChat, token: aliceToken }).catch(
        (err: Error & { data?: { code?: string } }) => err,
      );
      expect(theirs).toBeInstanceOf(Error);
      expect((theirs as Error & { data?: { code?: string } }).data?.code).toBe('chat_not_found');

      const chatId = await alice.createChat('alice');
      const client = await SioChatClient.connect(api, { chatId, token: aliceToken });
      try {
        client.emit('message_upload', { message: 'I am bob', userId: 'bob', clientMessageId: 'sio-spoof' });
        expect(await client.collector.waitFor(isError('forbidden'))).toMatchObject({ clientMessageId: 'sio-spoof' });
        expect(client.socket.connected).toBe(true);
        expect(await messagesOf(alice, chatId)).toEqual([]);
        expect((await generationJobs(cluster)).filter((j) => j.chatId === chatId)).toEqual([]);
      } finally {
        client.close();
      }
    });

    it('a token that expires mid-answer: error token_expired, then the server disconnects (user-level sockets too); the old token is refused, a fresh one resumes', async () => {
      const chatId = await alice.createChat('alice');
      const short = await token('alice', {}, { expiresIn: 2 });
      const client = await SioChatClient.connect(api, { chatId, token: short });
      const disconnected = new Promise<string>((resolve) => client.socket.once('disconnect', resolve));
      // A user-level connection (no chat) with the same token ends the same way.
      const userLevel = await SioChatClient.connect(api, { token: short });
      const userLevelGone = new Promise<string>((resolve) => userLevel.socket.once('disconnect', resolve));
      client.emit('message_upload', { message: 'A long answer, please', clientMessageId: 'sio-expiring' });
      const confirm = await client.collector.waitForMt('message_upload_confirm');
      const generationId = confirm.generationId ?? '';
      await client.collector.waitFor(isError('token_expired'), 10_000);
      expect(await disconnected).toBe('io server disconnect');
      expect(await userLevelGone).toBe('io server disconnect');
      expect(userLevel.collector.frames).toEqual([{ mt: 'error', code: 'token_expired', message: expect.any(String) }]);
      const stale = await SioChatClient.connect(api, { chatId, token: short }).catch((err: Error & { data?: { code?: string } }) => err);
      expect((stale as Error & { data?: { code?: string } }).data?.code).toBe('token_expired');
      const before = generationFrames(client.collector, generationId);
      expect(before.some((f) => f.mt === 'chat_message_bot_complete')).toBe(false);
      const lastSeq = before.at(-1)?.seq ?? 0;

      const resumed = await SioChatClient.connect(api, { chatId, token: await token('alice'), generationId, lastSeq });
      try {
        const done = await resumed.collector.waitForTerminal(generationId);
        const after = generationFrames(resumed.collector, generationId);
        expect([...seqs(before), ...seqs(after)]).toEqual(range(1, done.seq));
        expect(deltas(before) + deltas(after)).toBe(done.text);
      } finally {
        resumed.close();
      }
    });
  });

  describe('Server-Sent Events', () => {
    it('takes the token as ?token= or the Authorization header; refuses bad ones with 401 and another user’s chat with 404', async () => {
      const chatId = await alice.createChat('alice');
      const viaQuery = await SseChatClient.connect(api, chatId, undefined, { token: aliceToken });
      const viaHeader = await SseChatClient.connect(api, chatId, undefined, { bearer: aliceToken });
      try {
        const sent = await alice.post<{ generationId: string }>(`/chat/${chatId}/messages`, { text: 'Hi', generate: true });
        await viaQuery.collector.waitForMt('typing_indicator', (f) => f.generationId === sent.body.generationId);
        await viaHeader.collector.waitForMt('typing_indicator', (f) => f.generationId === sent.body.generationId);
        await alice.post(`/chat/${chatId}/stop`);
      } finally {
        await Promise.all([viaQuery.close(), viaHeader.close()]);
      }
      await expect(SseChatClient.connect(api, chatId)).rejects.toThrow(/SSE 401.*unauthorized/);
      for (const [, bad, code] of await badTokens('alice')) {
        await expect(SseChatClient.connect(api, chatId, undefined, { token: bad })).rejects.toThrow(new RegExp(`SSE 401.*${code}`));
      }
      await expect(SseChatClient.connect(api, bobChat, undefined, { token: aliceToken })).rejects.toThrow(/SSE 404.*chat_not_found/);
      await stillServes();
    });

    it('a token that expires mid-answer: an error event token_expired, the stream ends; a fresh token resumes with Last-Event-ID', async () => {
      const chatId = await alice.createChat('alice');
      const sse = await SseChatClient.connect(api, chatId, undefined, { token: await token('alice', {}, { expiresIn: 2 }) });
      const sent = await alice.post<{ generationId: string }>(`/chat/${chatId}/messages`, { text: 'A long answer', generate: true });
      const generationId = sent.body.generationId;
      await sse.collector.waitFor(isError('token_expired'), 10_000);
      await sse.ended;
      const before = generationFrames(sse.collector, generationId);
      expect(before.some((f) => f.mt === 'chat_message_bot_complete')).toBe(false);

      const resumed = await SseChatClient.connect(api, chatId, sse.lastEventId, { token: await token('alice') });
      try {
        const done = await resumed.collector.waitForTerminal(generationId);
        const after = generationFrames(resumed.collector, generationId);
        expect([...seqs(before), ...seqs(after)]).toEqual(range(1, done.seq));
        expect(deltas(before) + deltas(after)).toBe(done.text);
      } finally {
        await resumed.close();
      }
    });
  });

  describe('admin role: Bull Board (no ADMIN_TOKEN on this node)', () => {
    const QUEUES = '/admin/queues/api/queues';
    const board = (headers: Record<string, string>): Promise<Response> => fetch(`${api}${QUEUES}`, { headers, redirect: 'manual' });

    it('a JWT with role admin opens the board as a bearer token and through the login form; others get 401', async () => {
      const admin = await token('root', { role: 'admin' });
      expect((await board({ authorization: `Bearer ${admin}` })).status).toBe(200);
      for (const other of [
        aliceToken,
        await token('carol', { org_role: 'admin' }),
        await token('root', { role: 'admin' }, { expiresIn: -5 }),
      ]) {
        expect((await board({ authorization: `Bearer ${other}` })).status).toBe(401);
      }

      const login = (value: string) =>
        fetch(`${api}/admin/login`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: value }).toString(),
          redirect: 'manual',
        });
      expect((await login(aliceToken)).status).toBe(401);
      const ok = await login(admin);
      expect(ok.status).toBe(303);
      const setCookie = ok.headers.get('set-cookie') ?? '';
      expect(setCookie).toMatch(/HttpOnly/i);
      expect(setCookie).toMatch(/Path=\/admin/);
      const cookie = setCookie.split(';')[0] ?? '';
      expect((await board({ cookie })).status).toBe(200);
      expect((await board({ cookie: cookie.replace(/=.*/, `=${aliceToken}`) })).status).toBe(401);
      expect(cluster.logs()).toMatch(/ADMIN_TOKEN is not set: \/admin opens to JWTs with role \\"admin\\" only/);
    });
  });

  it('never logs a token, says authentication is on, and no process has crashed', () => {
    const logs = cluster.logs();
    expect(logs).not.toContain(aliceToken);
    expect(logs).not.toContain(bobToken);
    expect(logs).not.toContain(TEST_JWT_SECRET);
    expect(logs).toMatch(/authentication is on/);
    expect([...cluster.apis, ...cluster.workers].every((p) => p.running)).toBe(true);
  });
});

describe('RS256 and ES256 tokens from an identity provider’s key set (AUTH_JWKS_URL)', () => {
  let jwks: TestJwks;
  let cluster: TestCluster;

  beforeAll(async () => {
    jwks = await TestJwks.start();
    cluster = await TestCluster.start({ env: { AUTH_JWKS_URL: jwks.url, LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: '20' } });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
    await jwks?.close();
  });

  it('an RS256 token over REST and an ES256 token over the WebSocket get a whole answer; forged ones are refused', async () => {
    const rest = new HttpClient(cluster.api(0), await jwks.sign('RS256', { sub: 'dana' }, { expiresIn: 600 }));
    const chatId = await rest.createChat('dana');
    const ws = await WsChatClient.connect(cluster.api(0), chatId, {}, { protocols: ['bearer', await jwks.sign('ES256', { sub: 'dana' })] });
    try {
      ws.send({ mt: 'message_upload', message: 'Hello!' });
      const confirm = await ws.collector.waitForMt('message_upload_confirm');
      expect((await ws.collector.waitForTerminal(confirm.generationId ?? '')).status).toBe('complete');
    } finally {
      await ws.close();
    }
    for (const alg of ['RS256', 'ES256'] as const) {
      const forged: HttpResult = await new HttpClient(cluster.api(0), await jwks.forge(alg, { sub: 'dana' })).get('/chat/user/dana');
      expectError(forged, 401, 'unauthorized');
    }
    // Another user's token (valid) does not see dana's chat.
    const other = new HttpClient(cluster.api(0), await jwks.sign('ES256', { sub: 'eve' }));
    expectError(await other.get(`/chat/${chatId}`), 404, 'chat_not_found');
  });
});
