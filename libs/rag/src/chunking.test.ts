import { describe, expect, it } from 'vitest';
import type { Chunk, ChunkOptions, DocumentFormat } from './chunking.ts';
import { chunkDocument } from './chunking.ts';
import { htmlToText } from './html-text.ts';

/** Invariants every chunking must keep, whatever the input (checked in bulk: chunks can number thousands). */
function expectWellFormed(source: string, chunks: readonly Chunk[], options: ChunkOptions): void {
  const problems: string[] = [];
  chunks.forEach((chunk, index) => {
    const at = `chunk ${index} [${chunk.start}, ${chunk.end})`;
    if (chunk.index !== index) problems.push(`${at}: index ${chunk.index}`);
    if (chunk.text !== source.slice(chunk.start, chunk.end)) problems.push(`${at}: text is not the source slice`);
    if (chunk.text.length === 0 || chunk.text !== chunk.text.trim()) problems.push(`${at}: empty or untrimmed`);
    if (chunk.text.length > options.maxChars) problems.push(`${at}: longer than ${options.maxChars}`);
    const previous = chunks[index - 1];
    if (!previous) return;
    if (chunk.start <= previous.start || chunk.end <= previous.end) problems.push(`${at}: does not move forward`);
    if (previous.end - chunk.start > options.overlapChars) problems.push(`${at}: overlaps by ${previous.end - chunk.start}`);
  });
  expect(problems).toEqual([]);
}

/** Every word of the source lies in some chunk. */
function expectCovered(source: string, chunks: readonly Chunk[]): void {
  const covered = new Uint8Array(source.length);
  for (const chunk of chunks) covered.fill(1, chunk.start, chunk.end);
  const missing = [...source.matchAll(/\S+/g)].filter((match) => covered[match.index] !== 1).map((match) => match[0]);
  expect(missing).toEqual([]);
}

const ENGLISH = [
  'RagStream answers questions over your documents. It streams every answer as it is written!',
  'Can it stop halfway? Yes, a stop request cancels the answer within a second.',
  'Dr. Smith wrote the first version in 2019. It had 3.5 times fewer features.',
].join('\n\n');

const HINDI =
  'भारत दक्षिण एशिया में स्थित एक देश है। इसकी राजधानी नई दिल्ली है। यह जनसंख्या के हिसाब से सबसे बड़ा देश है। ' +
  'यहाँ कई भाषाएँ बोली जाती हैं॥ हिंदी और अंग्रेज़ी सरकारी कामकाज की भाषाएँ हैं।';

describe('chunkDocument', () => {
  it.each(['text', 'markdown', 'html'] as const)('returns no chunk for an empty %s document', (format) => {
    expect(chunkDocument({ text: '', format }, { maxChars: 100, overlapChars: 20 })).toEqual([]);
  });

  it.each(['text', 'markdown', 'html'] as const)('returns no chunk for whitespace only (%s)', (format) => {
    expect(chunkDocument({ text: ' \n\n\t  \r\n ', format }, { maxChars: 100, overlapChars: 20 })).toEqual([]);
  });

  it('keeps a short document in one chunk', () => {
    const text = '  Just one sentence.  \n';
    expect(chunkDocument({ text, format: 'text' }, { maxChars: 100, overlapChars: 20 })).toEqual([
      { index: 0, text: 'Just one sentence.', start: 2, end: 20 },
    ]);
  });

  it('cuts one giant sentence without punctuation between words only', () => {
    const words = Array.from({ length: 300 }, (_, i) => `word${i}`);
    const text = words.join(' ');
    const options = { maxChars: 100, overlapChars: 30 };
    const chunks = chunkDocument({ text, format: 'text' }, options);
    expect(chunks.length).toBeGreaterThan(10);
    expectWellFormed(text, chunks, options);
    expectCovered(text, chunks);
    for (const chunk of chunks) {
      expect(chunk.start === 0 || text[chunk.start - 1] === ' ').toBe(true);
      expect(chunk.end === text.length || text[chunk.end] === ' ').toBe(true);
    }
  });

  it('cuts a single word longer than maxChars, and only that word', () => {
    const long = 'x'.repeat(250);
    const text = `Before it. ${long} after it.`;
    const options = { maxChars: 100, overlapChars: 20 };
    const chunks = chunkDocument({ text, format: 'text' }, options);
    expectWellFormed(text, chunks, options);
    expectCovered(text, chunks);
    expect(chunks.map((chunk) => chunk.text.length)).toEqual([10, 100, 100, 60]);
    expect(chunks[3]?.text).toBe(`${'x'.repeat(50)} after it.`);
  });

  it('cuts an over-long Devanagari word between graphemes, never inside a conjunct or matra', () => {
    const text = 'क्षत्रिय'.repeat(40);
    const options = { maxChars: 50, overlapChars: 0 };
    const chunks = chunkDocument({ text, format: 'text' }, options);
    expectWellFormed(text, chunks, options);
    expect(chunks.map((chunk) => chunk.text).join('')).toBe(text);
    for (const chunk of chunks.slice(1)) {
      expect(chunk.text).not.toMatch(/^\p{M}/u);
      expect(text[chunk.start - 1]).not.toBe('\u094D'); // virama
    }
  });

  it('splits Hindi at the danda, keeping it with its sentence', () => {
    const options = { maxChars: 80, overlapChars: 0 };
    const chunks = chunkDocument({ text: HINDI, format: 'text' }, options);
    expectWellFormed(HINDI, chunks, options);
    expectCovered(HINDI, chunks);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) expect(chunk.text).toMatch(/[।॥]$/u);
    expect(chunks[0]?.text).toBe('भारत दक्षिण एशिया में स्थित एक देश है। इसकी राजधानी नई दिल्ली है।');
  });

  it('repeats whole sentences as overlap', () => {
    const options = { maxChars: 90, overlapChars: 40 };
    const chunks = chunkDocument({ text: HINDI, format: 'text' }, options);
    expectWellFormed(HINDI, chunks, options);
    const [first, second] = chunks;
    if (!first || !second) throw new Error('expected at least two chunks');
    expect(second.start).toBeLessThan(first.end);
    expect(HINDI.slice(0, second.start)).toMatch(/[।॥] $/u);
  });

  it('never exceeds maxChars or overlapChars, whatever the settings', () => {
    const sentences = Array.from({ length: 60 }, (_, i) => {
      const length = 1 + ((i * 7) % 13);
      return `${Array.from({ length }, (_, j) => `w${i}x${j}`).join(' ')}${i % 5 === 0 ? '।' : '.'}`;
    });
    const text = sentences.map((sentence, i) => (i % 4 === 3 ? `${sentence}\n\n` : `${sentence} `)).join('');
    for (const maxChars of [1, 7, 40, 64, 120, 500]) {
      for (const overlapChars of [0, 10, 39, 63, 200]) {
        const options = { maxChars, overlapChars };
        const chunks = chunkDocument({ text, format: 'text' }, options);
        expectWellFormed(text, chunks, options);
        expectCovered(text, chunks);
      }
    }
  });

  it('prefers to end a chunk at a paragraph boundary', () => {
    const text = 'First paragraph has two sentences. This is the second.\n\nSecond paragraph starts. It goes on for a while longer.';
    const chunks = chunkDocument({ text, format: 'text' }, { maxChars: 90, overlapChars: 0 });
    expect(chunks.map((chunk) => chunk.text)).toEqual([
      'First paragraph has two sentences. This is the second.',
      'Second paragraph starts. It goes on for a while longer.',
    ]);
  });

  it('does not split sentences at abbreviations or decimals', () => {
    const chunks = chunkDocument({ text: ENGLISH, format: 'text' }, { maxChars: 50, overlapChars: 0 });
    expect(chunks.map((chunk) => chunk.text)).toContain('Dr. Smith wrote the first version in 2019.');
    expect(chunks.map((chunk) => chunk.text)).toContain('It had 3.5 times fewer features.');
  });

  it('packs paragraphs of a text document within maxChars', () => {
    const options = { maxChars: 120, overlapChars: 50 };
    const chunks = chunkDocument({ text: ENGLISH, format: 'text' }, options);
    expectWellFormed(ENGLISH, chunks, options);
    expectCovered(ENGLISH, chunks);
    expect(chunks.every((chunk) => chunk.heading === undefined)).toBe(true);
  });

  it('takes linear time on a huge paragraph and a huge word', () => {
    // Segmenting either whole with Intl.Segmenter takes minutes (see text-spans.ts).
    const started = performance.now();
    for (const text of ['Short sentence here. '.repeat(10_000), 'x'.repeat(100_000), 'शब्द '.repeat(40_000)]) {
      const options = { maxChars: 1000, overlapChars: 200 };
      const chunks = chunkDocument({ text, format: 'text' }, options);
      expect(chunks.length).toBeGreaterThan(50);
      expect(chunks.every((chunk) => chunk.text === text.slice(chunk.start, chunk.end))).toBe(true);
    }
    expect(performance.now() - started).toBeLessThan(10_000);
  });

  it('rejects options it cannot meet', () => {
    const document = { text: 'Hello.', format: 'text' as DocumentFormat };
    expect(() => chunkDocument(document, { maxChars: 0, overlapChars: 0 })).toThrow(RangeError);
    expect(() => chunkDocument(document, { maxChars: 10.5, overlapChars: 0 })).toThrow(RangeError);
    expect(() => chunkDocument(document, { maxChars: 10, overlapChars: -1 })).toThrow(RangeError);
    expect(() => chunkDocument(document, { maxChars: Number.NaN, overlapChars: 0 })).toThrow(RangeError);
  });
});

describe('chunkDocument on Markdown', () => {
  const markdown = [
    'Intro before any heading.',
    '',
    '# Pricing',
    '',
    '## Pro plan',
    'The Pro plan costs 20 dollars a month. It includes SSO.',
    '',
    '```bash',
    '# not a heading, a comment',
    'npm install',
    '```',
    '',
    '## Empty section',
    '',
    '### Enterprise ###',
    'Call us for a quote.',
    '',
    '#hashtag is not a heading either.',
  ].join('\n');

  it('carries the nearest heading and skips headings without a body', () => {
    const options = { maxChars: 500, overlapChars: 0 };
    const chunks = chunkDocument({ text: markdown, format: 'markdown' }, options);
    expectWellFormed(markdown, chunks, options);
    expect(chunks.map((chunk) => [chunk.heading, chunk.text])).toEqual([
      [undefined, 'Intro before any heading.'],
      ['Pro plan', 'The Pro plan costs 20 dollars a month. It includes SSO.\n\n```bash\n# not a heading, a comment\nnpm install\n```'],
      ['Enterprise', 'Call us for a quote.\n\n#hashtag is not a heading either.'],
    ]);
  });

  it('never lets a chunk span two sections', () => {
    const options = { maxChars: 40, overlapChars: 20 };
    const chunks = chunkDocument({ text: markdown, format: 'markdown' }, options);
    expectWellFormed(markdown, chunks, options);
    for (const chunk of chunks) expect(chunk.text).not.toMatch(/^#{1,6} (Pricing|Pro plan|Empty section|Enterprise)/m);
  });

  it('returns no chunk for headings alone', () => {
    expect(chunkDocument({ text: '# One\n\n## Two\n### Three\n', format: 'markdown' }, { maxChars: 100, overlapChars: 0 })).toEqual([]);
  });

  it('maps offsets back to the source, Windows line endings included', () => {
    const text = '# Title\r\n\r\nFirst paragraph.\r\n\r\n## Next\r\nSecond one here. And more.\r\n';
    const options = { maxChars: 20, overlapChars: 10 };
    const chunks = chunkDocument({ text, format: 'markdown' }, options);
    expectWellFormed(text, chunks, options);
    expect(chunks.map((chunk) => [chunk.heading, chunk.text])).toEqual([
      ['Title', 'First paragraph.'],
      ['Next', 'Second one here.'],
      ['Next', 'And more.'],
    ]);
  });
});

describe('chunkDocument on HTML', () => {
  const html = `<!doctype html><html><head><title>Ignored</title><style>p { color: red }</style></head>
    <body>
      <p>Welcome &amp; hello.</p>
      <h1>Pricing</h1>
      <h2>Pro&nbsp;plan</h2>
      <p>The <b>Pro</b> plan costs
         20 dollars.<br>It includes SSO.</p>
      <script>if (a < b) alert('no');</script>
      <!-- a comment -->
      <h3>Limits</h3>
      <ul><li>10 projects</li><li>5 users</li></ul>
      <table><tr><th>Plan</th><th>Price</th></tr><tr><td>Pro</td><td>20</td></tr></table>
    </body></html>`;

  it('converts to text with headings, paragraphs and decoded entities', () => {
    const { text } = htmlToText(html);
    expect(text).toBe(
      [
        'Welcome & hello.',
        'Pricing',
        'Pro plan',
        'The Pro plan costs 20 dollars.\nIt includes SSO.',
        'Limits',
        '10 projects',
        '5 users',
        'Plan | Price',
        'Pro | 20',
      ].join('\n\n'),
    );
  });

  it('carries h1-h6 headings into chunks whose offsets map into the converted text', () => {
    const options = { maxChars: 200, overlapChars: 0 };
    const chunks = chunkDocument({ text: html, format: 'html' }, options);
    expectWellFormed(htmlToText(html).text, chunks, options);
    expect(chunks.map((chunk) => [chunk.heading, chunk.text])).toEqual([
      [undefined, 'Welcome & hello.'],
      ['Pro plan', 'The Pro plan costs 20 dollars.\nIt includes SSO.'],
      ['Limits', '10 projects\n\n5 users\n\nPlan | Price\n\nPro | 20'],
    ]);
  });
});
