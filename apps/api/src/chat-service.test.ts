import type { Admission, GenerationLifecycle, GenerationQueue } from '@ragstream/lifecycle';
import type { Chat, ChatMessage } from '@ragstream/protocol';
import { createLogger } from '@ragstream/runtime';
import type { ChatStore } from '@ragstream/store';
import { describe, expect, it } from 'vitest';
import { ApiError } from './api-error.ts';
import type { ChatServiceDeps } from './chat-service.ts';
import { ChatService } from './chat-service.ts';
import type { MessageLimits } from './limits/message-limits.ts';
import { startTrace } from './message-trace.ts';

const CHAT: Chat = {
  id: '0123456789abcdef01234567',
  userId: 'owner',
  title: 't',
  organisationId: '000000000000000000000001',
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
const CALLER = { userId: 'u1', organisationId: CHAT.organisationId };

/** A chat store holding one chat, and the calls the service made. */
function fakes(options: { refuse?: ApiError; admission?: Admission; stored?: ChatMessage } = {}) {
  const calls: string[] = [];
  let created = 0;
  const store = {
    getChat: async () => CHAT,
    findMessageByClientId: async () => options.stored ?? null,
    createMessage: async (input: { text: string; clientMessageId?: string }) => {
      calls.push(`create ${input.text}`);
      if (options.stored) return { value: options.stored, created: false };
      created += 1;
      return { value: { id: `m${created}`, chatId: CHAT.id, role: 'user', text: input.text, createdAt: '', updatedAt: '' }, created: true };
    },
    deleteMessage: async (_chatId: string, id: string) => {
      calls.push(`delete ${id}`);
      return true;
    },
    findBotMessageByGeneration: async () => null,
  } as unknown as ChatStore;
  const limits = {
    answers: { perUser: 1, perOrganisation: 0 },
    check: async () => {
      calls.push('check');
      if (options.refuse) throw options.refuse;
    },
  } as unknown as MessageLimits;
  const lifecycle = {
    admit: async () => options.admission ?? { kind: 'admitted', position: 0 },
  } as unknown as GenerationLifecycle;
  const queue = { state: async () => 'unknown' } as unknown as GenerationQueue;
  const service = new ChatService({
    store,
    queue,
    lifecycle,
    limits,
    clock: { answerRequested: () => undefined, stopRequested: () => undefined },
    events: { answerStarted: () => undefined },
  } as unknown as ChatServiceDeps);
  return { service, calls };
}

const trace = () => startTrace(createLogger('test', 'error'));

describe('ChatService and the limits', () => {
  it('checks a new message before storing it; a refusal stores nothing', async () => {
    const { service, calls } = fakes({ refuse: new ApiError('rate_limited', 'slow down', { retryAfter: 3 }) });
    await expect(service.storeUserMessage(CHAT.id, { text: 'hi' }, trace(), { caller: CALLER, answer: true })).rejects.toMatchObject({
      code: 'rate_limited',
    });
    expect(calls).toEqual(['check']);
  });

  it('confirms a resend of a stored message again, whatever the limits', async () => {
    const stored: ChatMessage = {
      id: 'm0',
      chatId: CHAT.id,
      role: 'user',
      text: 'hi',
      clientMessageId: 'c1',
      createdAt: '',
      updatedAt: '',
    };
    const { service, calls } = fakes({ refuse: new ApiError('quota_exceeded', 'used up'), stored });
    const result = await service.storeUserMessage(CHAT.id, { text: 'hi', clientMessageId: 'c1' }, trace(), {
      caller: CALLER,
      answer: true,
    });
    expect(result.created).toBe(false);
    // The limits are read while it is looked up, and their refusal does not count for a resend.
    expect(calls).toEqual(['check', 'create hi']);
  });

  it('deletes a message whose answer lost the race for the last place, and refuses it', async () => {
    const { service, calls } = fakes({ admission: { kind: 'refused', scope: 'user', inProgress: 1, limit: 1 } });
    const stored = await service.storeUserMessage(CHAT.id, { text: 'hi' }, trace(), { caller: CALLER, answer: true });
    await expect(service.admitAnswer(stored, { userId: CALLER.userId })).rejects.toMatchObject({ code: 'too_many_answers' });
    expect(calls).toEqual(['check', 'create hi', 'delete m1']);
  });
});
