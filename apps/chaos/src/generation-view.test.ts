import type { GenerationFrame } from '@ragstream/protocol';
import { describe, expect, it } from 'vitest';
import { GenerationView } from './generation-view.ts';
import { compactRanges, logText } from './verify.ts';

const G = 'gen-000000000000000000000001';
const CHAT = '000000000000000000000002';

function typing(seq: number, attempt: number): GenerationFrame {
  return { mt: 'typing_indicator', chatId: CHAT, generationId: G, attempt, seq, replyTo: '000000000000000000000003' } as GenerationFrame;
}
function partial(seq: number, attempt: number, delta: string): GenerationFrame {
  return { mt: 'chat_message_bot_partial', chatId: CHAT, generationId: G, attempt, seq, delta } as GenerationFrame;
}
function terminal(seq: number, attempt: number, text: string): GenerationFrame {
  return {
    mt: 'chat_message_bot_complete',
    chatId: CHAT,
    generationId: G,
    attempt,
    seq,
    status: 'complete',
    messageId: '000000000000000000000004',
    text,
    sources: [],
  } as GenerationFrame;
}

describe('GenerationView', () => {
  it('counts duplicates and missing seqs, and keeps the text of the latest attempt', () => {
    const view = new GenerationView(G);
    const frames = [typing(1, 1), partial(2, 1, 'old '), partial(2, 1, 'old '), typing(4, 2), partial(5, 2, 'new'), terminal(6, 2, 'new')];
    for (const [i, f] of frames.entries()) view.add(f, i);
    expect(view.duplicates).toBe(1);
    expect(view.missing(6)).toEqual([3]);
    expect(view.lastSeq).toBe(2);
    expect(view.text).toBe('new');
    expect(view.attempts).toEqual([1, 2]);
    expect(view.terminal?.text).toBe('new');
    expect(view.violations).toEqual([]);
  });

  it('flags a superseded attempt writing, reordering, and frames after the terminal one', () => {
    const view = new GenerationView(G);
    const frames = [typing(1, 1), typing(3, 2), partial(2, 1, 'zombie'), terminal(4, 2, ''), partial(5, 2, 'late')];
    for (const [i, f] of frames.entries()) view.add(f, i);
    expect(view.violations.some((v) => v.includes('superseded attempt'))).toBe(true);
    expect(view.violations.some((v) => v.includes('out of order'))).toBe(true);
    expect(view.violations.some((v) => v.includes('after the terminal frame'))).toBe(true);
  });

  it('waits for frames on events', async () => {
    const view = new GenerationView(G);
    const waiting = view.waitFrame((f) => f.seq === 2, 1_000);
    view.add(typing(1, 1), 0);
    view.add(partial(2, 1, 'x'), 1);
    await expect(waiting).resolves.toBe(true);
    await expect(view.waitFrame((f) => f.seq === 9, 10)).resolves.toBe(false);
    await expect(view.waitTerminal(10)).resolves.toBeUndefined();
  });
});

describe('log helpers', () => {
  it('replays the log as a client would', () => {
    const log = [typing(1, 1), partial(2, 1, 'a'), typing(3, 2), partial(4, 2, 'b'), partial(5, 2, 'b'), terminal(6, 2, 'bb')];
    expect(logText(log)).toBe('bb');
  });

  it('compacts seq ranges', () => {
    expect(compactRanges([3, 4, 5, 9, 11, 12])).toBe('3-5,9,11-12');
    expect(compactRanges([])).toBe('');
  });
});
