/** The visitor's identity and choices, kept in localStorage so that a reload (or a second tab) keeps them. */
const USER_KEY = 'ragstream.userId';
const CHAT_KEY = 'ragstream.chatId';
const LANGUAGE_KEY = 'ragstream.language';
const ORGANISATION_KEY = 'ragstream.organisationId';

export const DEFAULT_ORGANISATION_ID = '000000000000000000000001';

export function userId(): string {
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
