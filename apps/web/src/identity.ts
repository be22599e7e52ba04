/** The visitor's identity and choices, kept in localStorage so that a reload (or a second tab) keeps them. */
const USER_KEY = 'ragstream.userId';
const CHAT_KEY = 'ragstream.chatId';
const LANGUAGE_KEY = 'ragstream.language';
const ORGANISATION_KEY = 'ragstream.organisationId';

const TOKEN_KEY = 'ragstream.token';

export const DEFAULT_ORGANISATION_ID = '000000000000000000000001';

/**
 * The token of an API with authentication on: open the page as `/#token=<jwt>` once; the token
 * is kept in sessionStorage (this tab only) and taken out of the URL, so that it is neither
 * bookmarked nor shared with a link. Null without one (the local quick start).
 */
export function authToken(): string | null {
  const fromUrl = new URLSearchParams(location.hash.slice(1)).get('token');
  if (fromUrl) {
    sessionStorage.setItem(TOKEN_KEY, fromUrl);
    history.replaceState(null, '', `${location.pathname}${location.search}`);
  }
  return sessionStorage.getItem(TOKEN_KEY);
}

/** The token's `sub`, read (not verified: the server does that) so that the page lists the right user's chats. */
function tokenSubject(token: string): string | null {
  try {
    const payload = token.split('.')[1] ?? '';
    const bytes = Uint8Array.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const json = new TextDecoder().decode(bytes);
    const sub: unknown = (JSON.parse(json) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub.length > 0 ? sub : null;
  } catch {
    return null;
  }
}

/** With a token, its user; without, a made-up id kept in localStorage. */
export function userId(): string {
  const token = authToken();
  const sub = token ? tokenSubject(token) : null;
  if (sub) return sub;
  let id = localStorage.getItem(USER_KEY);
  if (!id) {
    id = `web-${crypto.randomUUID()}`;
    localStorage.setItem(USER_KEY, id);
  }
  return id;
}

/** The chat in the URL wins over the stored one, so that a link opens its chat. */
export function initialChatId(): string | null {
  return new URL(location.href).searchParams.get('chat') ?? localStorage.getItem(CHAT_KEY);
}

export function rememberChat(chatId: string | null): void {
  const url = new URL(location.href);
  if (chatId) {
    localStorage.setItem(CHAT_KEY, chatId);
    url.searchParams.set('chat', chatId);
  } else {
    localStorage.removeItem(CHAT_KEY);
    url.searchParams.delete('chat');
  }
  history.replaceState(null, '', url);
}

export function language(): 'en' | 'hi' {
  return localStorage.getItem(LANGUAGE_KEY) === 'hi' ? 'hi' : 'en';
}

export function rememberLanguage(value: 'en' | 'hi'): void {
  localStorage.setItem(LANGUAGE_KEY, value);
}

export function organisationId(): string {
  return localStorage.getItem(ORGANISATION_KEY) ?? DEFAULT_ORGANISATION_ID;
}

export function rememberOrganisation(id: string): void {
  localStorage.setItem(ORGANISATION_KEY, id);
}
