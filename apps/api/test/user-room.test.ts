import { randomUUID } from 'node:crypto';
import type { Chat } from '@ragstream/protocol';
import { HttpClient, SioChatClient, TestCluster } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

describe("a user's Socket.IO room on every node (2 API nodes, 1 worker)", () => {
  let cluster: TestCluster;
  let a: HttpClient;
  const clients: SioChatClient[] = [];

  beforeAll(async () => {
    cluster = await TestCluster.start({ apis: 2, env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: '5' } });
    a = new HttpClient(cluster.api(0));
  });
  afterEach((ctx) => {
    for (const client of clients.splice(0)) client.close();
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  async function connect(node: number, auth: Record<string, string>): Promise<SioChatClient> {
    const client = await SioChatClient.connect(cluster.api(node), auth);
    clients.push(client);
    return client;
  }

  it('chat list changes on node A and an answer started on node B reach all of the user’s sockets, and no other user’s', async () => {
    const alice = `alice-${randomUUID()}`;
    const bob = `bob-${randomUUID()}`;
    const aliceOnA = await connect(0, { userId: alice });
    const aliceOnB = await connect(1, { userId: alice });
    const bobOnB = await connect(1, { userId: bob });
    const tabs = [aliceOnA, aliceOnB];

    const created = await a.post<Chat>('/chat/', { userId: alice, title: 'First title' });
    expect(created.status).toBe(201);
    const chatId = created.body.id;
    for (const tab of tabs) expect((await tab.userFrames.waitForMt('chat_created')).chat).toEqual(created.body);

    const renamed = await a.put<Chat>(`/chat/${chatId}`, { title: 'Second title' });
    expect(renamed.status).toBe(200);
    for (const tab of tabs) expect((await tab.userFrames.waitForMt('chat_renamed')).chat).toEqual(renamed.body);

    // A chat connection that names its user hears both its chat's frames and the user's.
    const aliceInChat = await connect(1, { chatId, userId: alice });
    aliceInChat.emit('message_upload', { message: 'Hello', userId: alice, clientMessageId: 'm1' });
    const confirm = await aliceInChat.collector.waitForMt('message_upload_confirm');
    const generationId = confirm.generationId ?? '';
    for (const tab of [...tabs, aliceInChat]) {
      expect(await tab.userFrames.waitForMt('answer_started')).toEqual({ mt: 'answer_started', chatId, generationId });
    }
    expect((await aliceInChat.collector.waitForTerminal(generationId)).status).toBe('complete');

    expect((await a.delete(`/chat/${chatId}`)).status).toBe(204);
    for (const tab of tabs) expect(await tab.userFrames.waitForMt('chat_deleted')).toEqual({ mt: 'chat_deleted', chatId });
    for (const tab of tabs) {
      expect(tab.userFrames.frames.map((f) => f.mt)).toEqual(['chat_created', 'chat_renamed', 'answer_started', 'chat_deleted']);
    }

    // Bob's own event comes after all of Alice's (published earlier on the same channel): he heard none of hers.
    const bobs = await a.post<Chat>('/chat/', { userId: bob });
    expect((await bobOnB.userFrames.waitForMt('chat_created')).chat.id).toBe(bobs.body.id);
    expect(bobOnB.userFrames.frames).toHaveLength(1);
    expect(bobOnB.collector.frames).toEqual([]);
  });

  it('a user-level connection has no chat to write to, and a malformed userId fails the handshake', async () => {
    const user = await connect(0, { userId: `carol-${randomUUID()}` });
    user.emit('message_upload', { message: 'Hello', userId: 'carol', clientMessageId: 'c1' });
    expect(await user.collector.waitForMt('error')).toMatchObject({ code: 'chat_not_found', clientMessageId: 'c1' });

    const failed = await SioChatClient.connect(cluster.api(1), { userId: '' }).then(
      (client) => {
        client.close();
        return undefined;
      },
      (err: Error & { data?: { code?: string } }) => err,
    );
    expect(failed?.data?.code).toBe('invalid_query');
  });
});
