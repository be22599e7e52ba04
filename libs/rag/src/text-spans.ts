// Splitting text into spans (offsets into the source, end exclusive) at
// paragraph, sentence, word and grapheme boundaries, for the chunker.

export interface Span {
  start: number;
  end: number;
}

// Unicode sentence boundaries (UAX #29, via ICU): handles . ! ? and the
// Devanagari danda (।, ॥), closing quotes and brackets, decimals ("3.5") and
// lower-case continuations ("e.g. tea"). The locale does not change the rules.
const SENTENCES = new Intl.Segmenter('en', { granularity: 'sentence' });
const GRAPHEMES = new Intl.Segmenter('en', { granularity: 'grapheme' });

// V8's segment iterator costs time in proportion to the whole input at every
// step, so one long paragraph or word would take quadratic time (minutes for a
// few hundred kB). Inputs are therefore segmented through a window.
const WINDOW = 2048;

/**
 * Contiguous segments of `text[start, end)` in linear time, as segmenting it
 * whole would give them: each window's last segment, which the window may have
 * cut, is segmented again at the start of the next window (the boundary rules
 * look no further ahead than the next segment); a window holding a single
 * segment is doubled until the segment ends inside it.
 */
export function* segments(segmenter: Intl.Segmenter, text: string, start: number, end: number): Generator<Span> {
  let from = start;
  let window = WINDOW;
  while (from < end) {
    const to = Math.min(end, from + window);
    const found: Span[] = [];
    for (const segment of segmenter.segment(text.slice(from, to))) {
      found.push({ start: from + segment.index, end: from + segment.index + segment.segment.length });
    }
    if (to === end) {
      yield* found;
      return;
    }
    if (found.length < 2) {
      window *= 2;
      continue;
    }
    found.pop();
    yield* found;
    from = (found[found.length - 1] as Span).end;
    window = WINDOW;
  }
}

// UAX #29 ends a sentence at "Dr." or an initial ("J. K. Rowling"); these are
// joined back to the next sentence. Words that also end sentences ("etc.",
// "no.") are left out on purpose.
const ABBREVIATION =
  /(?:^|[\s(])(?:mr|mrs|ms|dr|prof|sr|jr|st|vs|e\.g|i\.e|inc|ltd|co|fig|approx|dept|mt|gen|col|lt|capt|sgt|gov|rev|hon|u\.s|u\.k)\.$/i;
const INITIAL = /(?:^|[\s(.])\p{Lu}\.$/u;

/** `[start, end)` shrunk to exclude leading and trailing whitespace; undefined if nothing is left. */
export function trimSpan(text: string, start: number, end: number): Span | undefined {
  let from = start;
  let to = end;
  while (from < to && /\s/u.test(text[from] ?? '')) from += 1;
  while (to > from && /\s/u.test(text[to - 1] ?? '')) to -= 1;
  return from < to ? { start: from, end: to } : undefined;
}

/** Paragraphs of `text[start, end)`: separated by one or more blank lines, trimmed. */
export function paragraphSpans(text: string, start: number, end: number): Span[] {
  const spans: Span[] = [];
  let from = start;
  for (const match of text.slice(start, end).matchAll(/\n(?:[^\S\n]*\n)+/g)) {
    const span = trimSpan(text, from, start + match.index);
    if (span) spans.push(span);
    from = start + match.index + match[0].length;
  }
  const last = trimSpan(text, from, end);
  if (last) spans.push(last);
  return spans;
}

/** Sentences of `text[start, end)`, each keeping its terminator, trimmed. */
export function sentenceSpans(text: string, start: number, end: number): Span[] {
  const spans: Span[] = [];
  let pendingStart: number | undefined;
  for (const segment of segments(SENTENCES, text, start, end)) {
    const span = trimSpan(text, segment.start, segment.end);
    if (!span) continue;
    const from = pendingStart ?? span.start;
    const sentence = text.slice(from, span.end);
    if (ABBREVIATION.test(sentence) || INITIAL.test(sentence)) {
      pendingStart = from;
      continue;
    }
    pendingStart = undefined;
    spans.push({ start: from, end: span.end });
  }
  if (pendingStart !== undefined) {
    const span = trimSpan(text, pendingStart, end);
    if (span) spans.push(span);
  }
  return spans;
}

/** Whitespace-separated words of `text[start, end)`. */
export function wordSpans(text: string, start: number, end: number): Span[] {
  const spans: Span[] = [];
  const words = /\S+/gu;
  words.lastIndex = start;
  for (let match = words.exec(text); match && match.index < end; match = words.exec(text)) {
    spans.push({ start: match.index, end: Math.min(match.index + match[0].length, end) });
  }
  return spans;
}

/**
 * `text[start, end)` cut into pieces of at most `maxChars`, only between
 * graphemes, so that a matra or an emoji modifier is never cut from its letter.
 * A single grapheme longer than `maxChars` becomes a piece of its own.
 */
export function graphemePieces(text: string, start: number, end: number, maxChars: number): Span[] {
  const pieces: Span[] = [];
  let from = start;
  let to = start;
  for (const grapheme of segments(GRAPHEMES, text, start, end)) {
    const graphemeEnd = grapheme.end;
    if (graphemeEnd - from > maxChars && to > from) {
      pieces.push({ start: from, end: to });
      from = to;
    }
    to = graphemeEnd;
  }
  if (to > from) pieces.push({ start: from, end: to });
  return pieces;
}
