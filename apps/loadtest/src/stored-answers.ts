import type { ChatMessage, Page } from '@ragstream/protocol';
import { MAX_PAGE_LIMIT } from '@ragstream/protocol';
import type { HttpClient } from '@ragstream/testing';

/** A chat's stored bot messages by generation id, read through the REST API (all pages). */
export async function storedAnswers(http: HttpClient, chatId: string): Promise<Map<string, ChatMessage>> {
  const answers = new Map<string, ChatMessage>();
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const { status, body } = await http.get<Page<ChatMessage>>(`/chat/${chatId}/messages?limit=${MAX_PAGE_LIMIT}${query}`);
    if (status !== 200) throw new Error(`GET /chat/${chatId}/messages: ${status} ${JSON.stringify(body)}`);
    for (const message of body.items) {
      if (message.role === 'bot' && message.generationId !== undefined) answers.set(message.generationId, message);
    }
    cursor = body.nextCursor;
  } while (cursor !== null);
  return answers;
}

export interface StoredCheck {
  ok: boolean;
  problem?: string;
}

/** The stored answer must exist, carry the terminal frame's status and equal the text the client received. */
export function checkStored(stored: ChatMessage | undefined, receivedText: string, status: string): StoredCheck {
  if (!stored) return { ok: false, problem: 'no stored answer' };
  if (stored.status !== status) return { ok: false, problem: `stored status ${stored.status ?? '(none)'}, terminal status ${status}` };
  if (stored.text !== receivedText) {
    return { ok: false, problem: `stored text (${stored.text.length} chars) differs from received text (${receivedText.length} chars)` };
  }
  return { ok: true };
}
