import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { RedisKeys } from './redis-keys.ts';

describe('RedisKeys', () => {
  const keys = new RedisKeys('rs');

  it('puts every key and channel of a chat’s answers in the chat’s Redis Cluster slot', () => {
    for (const chatId of ['6b0caa5cf533766af8478fe3', 'a', 'chat with spaces']) {
      const generationId = `gen-${chatId}-1`;
      const slots = [
        keys.chatFifo(chatId),
        keys.chatPresence(chatId),
        keys.chatFrames(chatId),
        keys.generationMeta(chatId, generationId),
        keys.generationLog(chatId, generationId),
      ].map((key) => calculateSlot(key));
      expect(new Set(slots)).toEqual(new Set([calculateSlot(chatId)]));
    }
  });

  it('keeps every BullMQ key of the deployment in one slot, apart from other deployments', () => {
    const slot = calculateSlot(`${keys.bullPrefix}:generate:wait`);
    expect(calculateSlot(`${keys.bullPrefix}:ingest:123`)).toBe(slot);
    expect(keys.bullPrefix.startsWith('{rs:')).toBe(true);
    expect(new RedisKeys('other').bullPrefix).not.toBe(keys.bullPrefix);
  });

  it('reads the chat back from its frame channel, and nothing from any other channel', () => {
    expect(keys.chatOfFrames(keys.chatFrames('abc'))).toBe('abc');
    expect(keys.chatOfFrames(new RedisKeys('other').chatFrames('abc'))).toBeUndefined();
    expect(keys.chatOfFrames(keys.cancelChannel)).toBeUndefined();
  });
});
