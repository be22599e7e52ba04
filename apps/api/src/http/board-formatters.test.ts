import { describe, expect, it } from 'vitest';
import {
  generationBoardData,
  generationBoardName,
  ingestionBoardData,
  ingestionBoardName,
  MESSAGE_PREVIEW_CHARS,
} from './board-formatters.ts';

const generation = {
  chatId: 'c1',
  organisationId: 'o1',
  userId: 'u1',
  userMessageId: 'm1',
  generationId: 'gen-m1',
  text: 'short question',
  enqueuedAt: Date.UTC(2026, 0, 2, 3, 4, 5),
};

describe('Bull Board formatters', () => {
  it('shows a generation by its ids, a preview instead of the text, and the enqueue time', () => {
    expect(generationBoardData(generation)).toEqual({
      chatId: 'c1',
      organisationId: 'o1',
      userId: 'u1',
      userMessageId: 'm1',
      generationId: 'gen-m1',
      messagePreview: 'short question',
      enqueuedAt: '2026-01-02T03:04:05.000Z',
    });
    expect(generationBoardName({ name: 'generate-answer', data: generation, attemptsStarted: 2 })).toBe(
      'generate-answer chat c1 attempt 2',
    );
  });

  it('cuts the preview at a code point boundary and marks the cut', () => {
    const text = `${'a'.repeat(MESSAGE_PREVIEW_CHARS - 1)}😀😀 tail`;
    const { messagePreview } = generationBoardData({ ...generation, text });
    expect(messagePreview).toBe(`${'a'.repeat(MESSAGE_PREVIEW_CHARS - 1)}😀…`);
    const exact = 'b'.repeat(MESSAGE_PREVIEW_CHARS);
    expect(generationBoardData({ ...generation, text: exact }).messagePreview).toBe(exact);
  });

  it('shows a payload that fits no schema by its faults, never its content', () => {
    const shown = generationBoardData({ text: 'a whole document '.repeat(100) });
    expect(Object.keys(shown)).toEqual(['unreadable']);
    expect(JSON.stringify(shown)).not.toContain('a whole document');
    expect(generationBoardName({ name: 'generate-answer', data: null })).toBe('generate-answer attempt 0');
  });

  it('shows ingestion and deletion jobs by their ids only, dropping fields no schema names', () => {
    const ingest = { organisationId: 'o1', documentId: 'd1', revision: 3, content: 'full text' };
    expect(ingestionBoardData(ingest)).toEqual({ organisationId: 'o1', documentId: 'd1', revision: 3 });
    expect(ingestionBoardData({ organisationId: 'o1', documentId: 'd2' })).toEqual({ organisationId: 'o1', documentId: 'd2' });
    expect(ingestionBoardName({ name: 'ingest-document', data: ingest })).toBe('ingest-document document d1');
    expect(ingestionBoardName({ name: 'ingest-document', data: 'garbage' })).toBe('ingest-document');
  });
});
