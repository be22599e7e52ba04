import type { Chat, ChatMessage, ChatStatus, Page } from '@ragstream/protocol';
import { authToken } from './identity.ts';

export interface Organisation {
  id: string;
  name: string;
}

export type DocumentFormat = 'text' | 'markdown' | 'html' | 'pdf';

export interface KnowledgeDocument {
  id: string;
  title: string;
  format: DocumentFormat;
  status: 'queued' | 'processing' | 'ready' | 'failed';
  progress: number;
  chunkCount?: number;
  error?: string;
}

/** An API error with its stable `code` (see the README's protocol reference). */
export class RestError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = body === undefined ? {} : { 'content-type': 'application/json' };
  const token = authToken();
  if (token) headers.authorization = `Bearer ${token}`;
  const init: RequestInit = { method, headers };
  if (body !== undefined) init.body = JSON.stringify(body);
  const res = await fetch(path, init);
  if (res.status === 204) return undefined as T;
  const payload: unknown = await res.json();
  if (!res.ok) {
    const { code, message } = payload as { code?: string; message?: string };
    throw new RestError(res.status, code ?? 'http_error', message ?? `${method} ${path}: HTTP ${res.status}`);
  }
  return payload as T;
}

/** Pages through a listing; the page needs every chat and the whole history of one chat. */
async function all<T>(path: string): Promise<T[]> {
  const items: T[] = [];
  let cursor: string | null = null;
  do {
    const sep = path.includes('?') ? '&' : '?';
    const page: Page<T> = await request<Page<T>>('GET', `${path}${sep}limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    items.push(...page.items);
    cursor = page.nextCursor;
  } while (cursor);
  return items;
}

export const rest = {
  listChats: (userId: string) => all<Chat>(`/chat/user/${encodeURIComponent(userId)}`),
  createChat: (userId: string, title: string, organisationId: string) => request<Chat>('POST', '/chat/', { userId, title, organisationId }),
  getChat: (chatId: string) => request<Chat>('GET', `/chat/${chatId}`),
  renameChat: (chatId: string, title: string) => request<Chat>('PUT', `/chat/${chatId}`, { title }),
  deleteChat: (chatId: string) => request<void>('DELETE', `/chat/${chatId}`),
  chatStatus: (chatId: string) => request<ChatStatus>('GET', `/chat/ws/${chatId}/status`),
  listMessages: (chatId: string) => all<ChatMessage>(`/chat/${chatId}/messages`),
  listOrganisations: () => all<Organisation>('/organisations'),
  listDocuments: (organisationId: string) => all<KnowledgeDocument>(`/organisations/${organisationId}/documents`),
  uploadDocument: (organisationId: string, title: string, format: DocumentFormat, content: string) =>
    request<KnowledgeDocument>('POST', `/organisations/${organisationId}/documents`, { title, format, content }),
  deleteDocument: (organisationId: string, documentId: string) =>
    request<void>('DELETE', `/organisations/${organisationId}/documents/${documentId}`),
};
