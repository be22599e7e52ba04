import type { Node as HtmlNode } from 'node-html-parser';
import { NodeType, parse } from 'node-html-parser';
import type { Section } from './document-sections.ts';

export interface HtmlText {
  /** Readable text: headings and blocks as paragraphs separated by blank lines. */
  text: string;
  /** Bodies between the h1-h6 headings, as offsets into `text`. */
  sections: Section[];
}

// Elements whose content is not readable text.
const SKIPPED = new Set([
  'head',
  'script',
  'style',
  'noscript',
  'template',
  'svg',
  'math',
  'iframe',
  'object',
  'canvas',
  'select',
  'button',
]);

// Elements that start a new paragraph; everything else flows inline.
const BLOCKS = new Set([
  'address',
  'article',
  'aside',
  'blockquote',
  'body',
  'caption',
  'dd',
  'details',
  'dialog',
  'div',
  'dl',
  'dt',
  'fieldset',
  'figcaption',
  'figure',
  'footer',
  'form',
  'header',
  'hgroup',
  'hr',
  'html',
  'legend',
  'li',
  'main',
  'nav',
  'ol',
  'p',
  'pre',
  'section',
  'summary',
  'table',
  'tbody',
  'tfoot',
  'thead',
  'tr',
  'ul',
]);

const HEADING = /^h[1-6]$/;

interface Block {
  heading: boolean;
  text: string;
}

/**
 * Converts HTML to plain text for chunking, keeping its structure: each h1-h6
 * becomes a heading line that starts a section, block elements (p, li, tr,
 * div, ...) become paragraphs, `br` a line break, table cells are joined with
 * " | ". Entities are decoded; scripts, styles and comments are dropped.
 */
export function htmlToText(html: string): HtmlText {
  const blocks: Block[] = [];
  let inline = '';

  const flush = (): void => {
    const text = inline
      .split('\n')
      .map((line) => line.trim())
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trim();
    if (text) blocks.push({ heading: false, text });
    inline = '';
  };

  const walk = (node: HtmlNode, preformatted: boolean): void => {
    if (node.nodeType === NodeType.TEXT_NODE) {
      const text = node.text.replace(/\u00A0/g, ' ');
      inline += preformatted ? text : text.replace(/\s+/g, ' ');
      return;
    }
    if (node.nodeType !== NodeType.ELEMENT_NODE) return;
    // The root has no tag name, whatever the typings say.
    const tag = (node.rawTagName as string | null)?.toLowerCase() ?? '';
    if (SKIPPED.has(tag)) return;
    if (HEADING.test(tag)) {
      flush();
      const text = node.text.replace(/\s+/g, ' ').trim();
      if (text) blocks.push({ heading: true, text });
      return;
    }
    if (tag === 'br') {
      inline += '\n';
      return;
    }
    if ((tag === 'td' || tag === 'th') && inline.trim()) inline += ' | ';
    const block = BLOCKS.has(tag);
    if (block) flush();
    for (const child of node.childNodes) walk(child, preformatted || tag === 'pre');
    if (block) flush();
  };

  // The parser keeps a doctype or an XML declaration as text.
  walk(parse(html.replace(/<!doctype[^>]*>|<\?xml[^>]*>/gi, ''), { comment: false }), false);
  flush();
  return assemble(blocks);
}

/** Joins blocks with blank lines and records the section bodies between headings. */
function assemble(blocks: readonly Block[]): HtmlText {
  let text = '';
  const sections: Section[] = [];
  let current: Section = { heading: undefined, start: 0, end: 0 };
  for (const block of blocks) {
    if (text) text += '\n\n';
    if (block.heading) {
      current.end = Math.max(current.start, text.length - 2);
      sections.push(current);
      text += block.text;
      current = { heading: block.text, start: text.length, end: text.length };
    } else {
      text += block.text;
    }
  }
  current.end = text.length;
  sections.push(current);
  return { text, sections: sections.filter((section) => section.end > section.start) };
}
