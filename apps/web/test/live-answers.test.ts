import type { ServerFrame } from '@ragstream/protocol';
import { describe, expect, it } from 'vitest';
import { LiveAnswers } from '../src/live-answers.ts';

class MemoryStorage implements Storage {
  private readonly items = new Map<string, string>();
  get length(): number {
    return this.items.size;
  }
  clear(): void {
    this.items.clear();
  }
  getItem(key: string): string | null {
    return this.items.get(key) ?? null;
  }
  key(index: number): string | null {
    return [...this.items.keys()][index] ?? null;
  }
  removeItem(key: string): void {
    this.items.delete(key);
  }
  setItem(key: string, value: string): void {
    this.items.set(key, value);
  }
}

const chatId = 'c'.repeat(24);
const base = { chatId, generationId: 'gen-1' };
const typing = (attempt: number, seq: number): ServerFrame => ({ mt: 'typing_indicator', ...base, attempt, seq, replyTo: 'm1' });
const partial = (attempt: number, seq: number, delta: string): ServerFrame => ({
  mt: 'chat_message_bot_partial',
  ...base,
  attempt,
  seq,
  delta,
});

describe('LiveAnswers', () => {
  it('appends deltas once each, by seq, and drops an earlier attempt', () => {
    const live = new LiveAnswers(chatId, new MemoryStorage());
    live.apply(typing(1, 1));
    live.apply(partial(1, 2, 'Hello '));
    live.apply(partial(1, 2, 'Hello '));
    live.apply(partial(1, 3, 'world'));
    expect(live.list()[0]?.text).toBe('Hello world');
    live.apply(typing(2, 4));
    live.apply(partial(2, 5, 'Again'));
    expect(live.list()[0]).toMatchObject({ attempt: 2, lastSeq: 5, text: 'Again', replyTo: 'm1' });
  });

  it('keeps the latest answer for a reload and resumes after what it showed', () => {
    const storage = new MemoryStorage();
    const live = new LiveAnswers(chatId, storage);
    live.apply(typing(1, 1));
    live.apply(partial(1, 2, 'Half'));
    const reloaded = new LiveAnswers(chatId, storage);
    expect(reloaded.list()[0]?.text).toBe('Half');
    expect(reloaded.resumePoint()).toEqual({ generationId: 'gen-1', lastSeq: 2 });
    expect(reloaded.apply({ mt: 'resume_unavailable', chatId, generationId: 'gen-1' })).toEqual({ kind: 'reload', generationId: 'gen-1' });
    expect(new LiveAnswers(chatId, storage).list()).toEqual([]);
  });
});
