import { describe, expect, it } from 'vitest';
import { extractPdfText } from './pdf-text.ts';
import { minimalPdf } from './testing/minimal-pdf.ts';

describe('extractPdfText', () => {
  it('reads the lines of a PDF in order', async () => {
    const text = await extractPdfText(minimalPdf(['Express shipping costs 12 euros.', 'It arrives (usually) the next day.']));
    expect(text).toBe('Express shipping costs 12 euros.\nIt arrives (usually) the next day.');
  });

  it('rejects bytes that are not a PDF', async () => {
    await expect(extractPdfText(new TextEncoder().encode('just text'))).rejects.toThrow();
  });
});
