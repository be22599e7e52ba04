import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { getDocument } from 'pdfjs-dist/legacy/build/pdf.mjs';

const require = createRequire(import.meta.url);
/** pdf.js reads the metrics of the 14 standard fonts from files it ships. */
const STANDARD_FONTS = `${join(dirname(require.resolve('pdfjs-dist/package.json')), 'standard_fonts')}/`;

/**
 * The text of a PDF (pdf.js, pure JavaScript): page by page, lines as the PDF
 * ends them, pages separated by blank lines so that chunking sees them as paragraphs.
 */
export async function extractPdfText(data: Uint8Array): Promise<string> {
  const document = await getDocument({
    data,
    standardFontDataUrl: STANDARD_FONTS,
    disableFontFace: true,
    isEvalSupported: false,
    verbosity: 0,
  }).promise;
  try {
    const pages: string[] = [];
    for (let number = 1; number <= document.numPages; number += 1) {
      const page = await document.getPage(number);
      const content = await page.getTextContent();
      let text = '';
      for (const item of content.items) {
        if (!('str' in item)) continue;
        text += item.str + (item.hasEOL ? '\n' : item.str.endsWith(' ') ? '' : ' ');
      }
      pages.push(text.replace(/[ \t]+\n/g, '\n').trim());
    }
    return pages.filter((page) => page.length > 0).join('\n\n');
  } finally {
    await document.destroy();
  }
}
