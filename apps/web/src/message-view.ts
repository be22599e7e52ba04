import type { ChatMessage, Source } from '@ragstream/protocol';
import type { LiveAnswer } from './live-answers.ts';
import { renderMarkdown } from './render-markdown.ts';

const STAGE_TEXT: Record<string, string> = {
  language: 'Detecting the language…',
  searching: 'Searching the documents…',
  generating: 'Writing the answer…',
};

export function stageText(answer: LiveAnswer): string {
  return answer.stage ? (STAGE_TEXT[answer.stage] ?? answer.stage) : 'Thinking…';
}

function element<K extends keyof HTMLElementTagNameMap>(tag: K, className: string, text?: string): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  el.className = className;
  if (text !== undefined) el.textContent = text;
  return el;
}

function sourcesView(sources: Source[]): HTMLElement {
  const details = element('details', 'sources');
  const cited = sources.filter((s) => s.cited).length;
  details.append(element('summary', '', `Sources (${sources.length}${cited ? `, ${cited} cited` : ''})`));
  const list = element('ul', 'source-list');
  for (const source of sources) {
    const item = element('li', source.cited ? 'source cited' : 'source');
    const title = element('strong', '', source.title ?? source.documentId);
    item.append(title);
    if (source.cited) item.append(element('span', 'cited-badge', ' cited'));
    // Excerpts are plain text: shown with textContent, never parsed as HTML.
    if (source.excerpt) item.append(element('p', 'excerpt', source.excerpt));
    list.append(item);
  }
  details.append(list);
  return details;
}

/** A stored message (user or bot). */
export function messageView(message: ChatMessage): HTMLLIElement {
  const item = element('li', `message ${message.role}`);
  item.dataset['messageId'] = message.id;
  if (message.generationId) item.dataset['generationId'] = message.generationId;
  item.append(element('span', 'visually-hidden', message.role === 'user' ? 'You said:' : 'Answer:'));
  if (message.role === 'user') {
    item.append(element('p', 'text', message.text));
    return item;
  }
  const body = element('div', 'text markdown');
  body.innerHTML = renderMarkdown(message.text);
  item.append(body);
  if (message.status && message.status !== 'complete') {
    item.append(element('p', `status ${message.status}`, message.status === 'stopped' ? 'Stopped.' : 'The answer failed.'));
  }
  if (message.sources && message.sources.length > 0) item.append(sourcesView(message.sources));
  return item;
}

/** An answer still streaming: its text so far and a typing indicator. */
export function liveAnswerView(answer: LiveAnswer): HTMLLIElement {
  const item = element('li', 'message bot live');
  item.dataset['generationId'] = answer.generationId;
  item.setAttribute('aria-busy', 'true');
  item.append(element('span', 'visually-hidden', 'Answer, being written:'));
  const body = element('div', 'text markdown');
  body.innerHTML = renderMarkdown(answer.text);
  item.append(body);
  const typing = element('span', 'typing', '');
  typing.setAttribute('aria-hidden', 'true');
  typing.append(element('i', ''), element('i', ''), element('i', ''));
  item.append(typing);
  return item;
}
