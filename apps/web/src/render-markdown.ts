import DOMPurify from 'dompurify';
import { marked } from 'marked';

/**
 * Answers are model output and may quote documents verbatim, so their Markdown is turned
 * into HTML and then sanitised: no script, event handler or `javascript:` URL survives.
 */
export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true, breaks: true });
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true } });
}
