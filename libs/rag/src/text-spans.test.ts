import { describe, expect, it } from 'vitest';
import { graphemePieces, paragraphSpans, segments, sentenceSpans } from './text-spans.ts';

const slices = (text: string, spans: readonly { start: number; end: number }[]): string[] =>
  spans.map((span) => text.slice(span.start, span.end));

describe('segments', () => {
  it('gives the same segments through windows as over the whole text', () => {
    const text = Array.from(
      { length: 100 },
      (_, i) => `Sentence ${i} says "hi?" then e.g. more… यह वाक्य ${i} है। ${i % 7 === 0 ? '\n\n' : ''}`,
    ).join('');
    for (const granularity of ['sentence', 'grapheme'] as const) {
      const segmenter = new Intl.Segmenter('en', { granularity });
      const whole = [...segmenter.segment(text)].map((s) => ({ start: s.index, end: s.index + s.segment.length }));
      expect([...segments(segmenter, text, 0, text.length)]).toEqual(whole);
    }
  });

  it('grows the window over a segment longer than it', () => {
    const text = `${'word '.repeat(3000)}end. Next one.`;
    const segmenter = new Intl.Segmenter('en', { granularity: 'sentence' });
    expect(slices(text, [...segments(segmenter, text, 0, text.length)])).toEqual([`${'word '.repeat(3000)}end. `, 'Next one.']);
  });
});

describe('sentenceSpans', () => {
  it('keeps terminators, the danda included, and trims', () => {
    const text = '  भारत एक देश है। इसकी राजधानी दिल्ली है॥ Is it? Yes!  ';
    expect(slices(text, sentenceSpans(text, 0, text.length))).toEqual(['भारत एक देश है।', 'इसकी राजधानी दिल्ली है॥', 'Is it?', 'Yes!']);
  });

  it('does not end sentences at abbreviations or initials', () => {
    const text = 'Dr. Smith met J. K. Rowling in the U.S. today. Plans cost 3.5 dollars, e.g. the Pro plan. Done.';
    expect(slices(text, sentenceSpans(text, 0, text.length))).toEqual([
      'Dr. Smith met J. K. Rowling in the U.S. today.',
      'Plans cost 3.5 dollars, e.g. the Pro plan.',
      'Done.',
    ]);
  });
});

describe('paragraphSpans', () => {
  it('splits at blank lines, whitespace-only ones and CRLF included', () => {
    const text = 'One\nstill one\n\nTwo\r\n \t\r\nThree\n\n\n';
    expect(slices(text, paragraphSpans(text, 0, text.length))).toEqual(['One\nstill one', 'Two', 'Three']);
  });
});

describe('graphemePieces', () => {
  it('never separates an emoji from its modifier', () => {
    const text = '👍🏽'.repeat(5);
    const pieces = slices(text, graphemePieces(text, 0, text.length, 9));
    expect(pieces).toEqual(['👍🏽👍🏽', '👍🏽👍🏽', '👍🏽']);
  });
});
