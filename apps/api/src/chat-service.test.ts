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
/** A message stored before under clientMessageId c1, which a resend finds. */
const RESENT: ChatMessage = { id: 'm0', chatId: CHAT.id, role: 'user', text: 'hi', clientMessageId: 'c1', createdAt: '', updatedAt: '' };

/** A chat store holding one chat, and the calls the service made. */
function fakes(options: { refuse?: ApiError; admission?: Admission; stored?: ChatMessage; leaseHeld?: boolean } = {}) {
  const calls: string[] = [];
  let created = 0;
  /** The ids the service chose, by the names the fake store gives them in `calls`. */
  const ids = new Map<string, string>();
  const named = (generationId: string): string => {
    for (const [id, name] of ids) if (generationId.endsWith(id)) return name;
    return 'another generation';
  };
  const store = {
    getChat: async () => CHAT,
    findMessageByClientId: async () => options.stored ?? null,
    createMessage: async (input: { id: string; text: string; clientMessageId?: string }) => {
      calls.push(`create ${input.text}`);
      if (options.stored) return { value: options.stored, created: false };
      created += 1;
      ids.set(input.id, `m${created}`);
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
      return { leaseHeld: options.leaseHeld ?? false };
    },
    release: async (_caller: unknown, generationId: string) => {
      calls.push(`release ${named(generationId)}`);
    },
  } as unknown as MessageLimits;
  const lifecycle = {
    admit: async (_data: unknown, _limits: unknown, leaseHeld: boolean) => {
      calls.push(leaseHeld ? 'admit (lease held)' : 'admit');
      return options.admission ?? { kind: 'admitted', position: 0 };
    },
    dispatch: async () => {
      calls.push('dispatch');
    },
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
    const { service, calls } = fakes({ refuse: new ApiError('quota_exceeded', 'used up'), stored: RESENT });
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
    expect(calls).toEqual(['check', 'create hi', 'admit', 'delete m1']);
  });

  it('with the lease taken by the limits, admits without taking another; dispatches after the confirmation', async () => {
    const { service, calls } = fakes({ leaseHeld: true });
    const stored = await service.storeUserMessage(CHAT.id, { text: 'hi' }, trace(), { caller: CALLER, answer: true });
    const afterConfirm = await service.admitAnswer(stored, { userId: CALLER.userId });
    expect(calls).toEqual(['check', 'create hi', 'admit (lease held)']);
    await afterConfirm?.();
    expect(calls).toEqual(['check', 'create hi', 'admit (lease held)', 'dispatch']);
  });

  it('a resend gives back the lease taken for it: its answer is the first send’s', async () => {
    const { service, calls } = fakes({ leaseHeld: true, stored: RESENT });
    const result = await service.storeUserMessage(CHAT.id, { text: 'hi', clientMessageId: 'c1' }, trace(), {
      caller: CALLER,
      answer: true,
    });
    expect(result).toMatchObject({ created: false, lease: undefined });
    expect(calls).toEqual(['check', 'create hi', 'release another generation']);
  });
});
