import type { Section } from './document-sections.ts';
import { markdownSections } from './document-sections.ts';
import { htmlToText } from './html-text.ts';
import type { Span } from './text-spans.ts';
import { graphemePieces, paragraphSpans, sentenceSpans, wordSpans } from './text-spans.ts';

export type DocumentFormat = 'text' | 'markdown' | 'html';

export interface ChunkableDocument {
  text: string;
  format: DocumentFormat;
}

export interface ChunkOptions {
  /** Upper bound on a chunk's length, in UTF-16 code units (JavaScript string length). */
  maxChars: number;
  /** Upper bound on the text a chunk repeats from the end of the previous one. */
  overlapChars: number;
}

export interface Chunk {
  index: number;
  /** Exactly `source.slice(start, end)`, where source is the document's text (for HTML, `htmlToText(text).text`). */
  text: string;
  /** The nearest heading above the chunk, if any. */
  heading?: string;
  start: number;
  end: number;
}

interface Unit extends Span {
  paragraph: number;
  /** Pieces of a word longer than maxChars are never repeated as overlap. */
  overlappable: boolean;
}

/**
 * Cuts a document into chunks for retrieval, following its structure:
 *
 * 1. sections at headings (Markdown ATX `#` headings, HTML h1-h6; plain text
 *    has none); a chunk never spans two sections and carries its heading;
 * 2. paragraphs (blank lines), then sentences (. ! ? and the danda ।, each
 *    keeping its terminator); a sentence longer than `maxChars` is cut between
 *    words, and only a single word longer than `maxChars` is cut inside, between
 *    graphemes;
 * 3. units are packed greedily up to `maxChars`; when a chunk is full it ends
 *    at the last paragraph boundary instead, if that keeps it at least half full;
 * 4. each chunk after the first in a section starts with the last whole
 *    sentences of the previous chunk, as many as fit in `overlapChars` without
 *    pushing the chunk over `maxChars` (never the whole previous chunk).
 *
 * A chunk's text is the source slice from its first unit to its last, inner
 * whitespace and line breaks included, so `start`/`end` map back to the
 * source. A heading with no body yields no chunk. Throws a RangeError on
 * options that cannot be met.
 */
export function chunkDocument(document: ChunkableDocument, options: ChunkOptions): Chunk[] {
  validate(options);
  const { source, sections } = sectionsOf(document);
  const chunks: Chunk[] = [];
  for (const section of sections) {
    for (const span of packSection(source, section, options)) {
      chunks.push({
        index: chunks.length,
        text: source.slice(span.start, span.end),
        ...(section.heading === undefined ? {} : { heading: section.heading }),
        start: span.start,
        end: span.end,
      });
    }
  }
  return chunks;
}

function validate({ maxChars, overlapChars }: ChunkOptions): void {
  if (!Number.isInteger(maxChars) || maxChars < 1) throw new RangeError(`maxChars must be a positive integer, not ${maxChars}`);
  if (!Number.isInteger(overlapChars) || overlapChars < 0) {
    throw new RangeError(`overlapChars must be a non-negative integer, not ${overlapChars}`);
  }
}

function sectionsOf(document: ChunkableDocument): { source: string; sections: Section[] } {
  switch (document.format) {
    case 'html': {
      const { text, sections } = htmlToText(document.text);
      return { source: text, sections };
    }
    case 'markdown':
      return { source: document.text, sections: markdownSections(document.text) };
    case 'text':
      return { source: document.text, sections: [{ heading: undefined, start: 0, end: document.text.length }] };
  }
}

function packSection(source: string, section: Section, { maxChars, overlapChars }: ChunkOptions): Span[] {
  const units = unitsOf(source, section, maxChars);
  const chunks: Span[] = [];
  let current: Unit[] = [];
  // Units at the start of `current` repeated from the previous chunk.
  let carried = 0;
  let next = 0;
  while (next < units.length) {
    const unit = units[next] as Unit;
    const first = current[0];
    if (!first || unit.end - first.start <= maxChars) {
      current.push(unit);
      next += 1;
      continue;
    }
    const cut = paragraphCut(current, carried, maxChars);
    const emitted = current.slice(0, cut);
    next -= current.length - cut;
    chunks.push(spanOf(emitted));
    current = overlap(emitted, units[next] as Unit, overlapChars, maxChars);
    carried = current.length;
  }
  if (current.length > 0) chunks.push(spanOf(current));
  return chunks;
}

/** Sentence units of a section; over-long sentences as words, over-long words as grapheme pieces. */
function unitsOf(source: string, section: Section, maxChars: number): Unit[] {
  const units: Unit[] = [];
  paragraphSpans(source, section.start, section.end).forEach((paragraph, index) => {
    for (const sentence of sentenceSpans(source, paragraph.start, paragraph.end)) {
      if (sentence.end - sentence.start <= maxChars) {
        units.push({ ...sentence, paragraph: index, overlappable: true });
        continue;
      }
      for (const word of wordSpans(source, sentence.start, sentence.end)) {
        if (word.end - word.start <= maxChars) {
          units.push({ ...word, paragraph: index, overlappable: true });
          continue;
        }
        for (const piece of graphemePieces(source, word.start, word.end, maxChars)) {
          units.push({ ...piece, paragraph: index, overlappable: false });
        }
      }
    }
  });
  return units;
}

/**
 * How many units of a full chunk to keep: up to its last paragraph boundary if
 * that keeps it half full, and always more than the `carried` overlap units.
 */
function paragraphCut(current: readonly Unit[], carried: number, maxChars: number): number {
  const first = current[0] as Unit;
  for (let cut = current.length - 1; cut > carried; cut -= 1) {
    const before = current[cut - 1] as Unit;
    if ((current[cut] as Unit).paragraph === before.paragraph) continue;
    return before.end - first.start >= maxChars / 2 ? cut : current.length;
  }
  return current.length;
}

/** The trailing units of `emitted` to repeat before `next`, within both limits. */
function overlap(emitted: readonly Unit[], next: Unit, overlapChars: number, maxChars: number): Unit[] {
  let from = emitted.length;
  while (from > 1) {
    const candidate = emitted[from - 1] as Unit;
    if (!candidate.overlappable) break;
    const last = emitted[emitted.length - 1] as Unit;
    if (last.end - candidate.start > overlapChars || next.end - candidate.start > maxChars) break;
    from -= 1;
  }
  return emitted.slice(from);
}

function spanOf(units: readonly Unit[]): Span {
  return { start: (units[0] as Unit).start, end: (units[units.length - 1] as Unit).end };
}
