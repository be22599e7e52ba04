// A document as sections: the body spans between headings, each with the
// nearest heading above it. Offsets are into the text the chunker cuts.

export interface Section {
  heading?: string | undefined;
  /** Body start, after the heading line. */
  start: number;
  /** Body end (exclusive), before the next heading. */
  end: number;
}

// ATX headings ("## Pricing", optional closing #s), up to three spaces indented.
const ATX_HEADING = /^ {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$/;
const FENCE = /^ {0,3}(`{3,}|~{3,})/;

/**
 * Sections of a Markdown text. Only ATX headings (`#` to `######`) start a
 * section; a `#` line inside a fenced code block is code, not a heading.
 * Setext headings (text underlined with === or ---) are read as body text.
 */
export function markdownSections(text: string): Section[] {
  const sections: Section[] = [];
  let current: Section = { heading: undefined, start: 0, end: text.length };
  let fence: string | undefined;
  let lineStart = 0;
  while (lineStart <= text.length) {
    const newline = text.indexOf('\n', lineStart);
    const lineEnd = newline === -1 ? text.length : newline;
    const line = text.slice(lineStart, lineEnd).replace(/\r$/, '');
    const fenceMatch = FENCE.exec(line);
    if (fenceMatch?.[1]) {
      const marker = fenceMatch[1];
      if (fence === undefined) fence = marker;
      else if (marker[0] === fence[0] && marker.length >= fence.length) fence = undefined;
    } else if (fence === undefined) {
      const heading = ATX_HEADING.exec(line);
      if (heading) {
        sections.push({ ...current, end: lineStart });
        current = { heading: heading[2]?.trim() || undefined, start: Math.min(lineEnd + 1, text.length), end: text.length };
      }
    }
    if (newline === -1) break;
    lineStart = newline + 1;
  }
  sections.push(current);
  return sections.filter((section) => section.end > section.start);
}
