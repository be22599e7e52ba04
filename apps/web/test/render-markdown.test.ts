// @vitest-environment jsdom
import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../src/render-markdown.ts';

describe('renderMarkdown', () => {
  it('renders Markdown', () => {
    const html = renderMarkdown('# Title\n\nSome **bold** text and a [link](https://example.com).\n\n- one\n- two');
    expect(html).toContain('<h1>Title</h1>');
    expect(html).toContain('<strong>bold</strong>');
    expect(html).toContain('<a href="https://example.com">link</a>');
    expect(html).toContain('<li>one</li>');
  });

  it('keeps no script, event handler or javascript: URL of an answer', () => {
    const html = renderMarkdown(
      'Quoted: <img src=x onerror="window.hacked=1"> <script>window.hacked=2</script> [click](javascript:window.hacked=3) <a href="javascript:alert(1)" onclick="x()">a</a>',
    );
    expect(html).not.toMatch(/onerror|onclick|<script|javascript:/i);
    expect(html).toContain('<img src="x">');
  });
});
