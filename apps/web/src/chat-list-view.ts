import type { Chat } from '@ragstream/protocol';

export interface ChatListActions {
  choose(chatId: string): void;
  rename(chatId: string, title: string): void;
  remove(chatId: string): void;
}

/**
 * The sidebar list of the user's chats; every control is a labelled button, so the keyboard reaches all.
 * `streaming`: chats where an answer is streaming, marked beside their title.
 */
export function renderChatList(
  list: HTMLElement,
  chats: Chat[],
  currentId: string | null,
  streaming: ReadonlySet<string>,
  actions: ChatListActions,
): void {
  // The list is rebuilt; a keyboard user keeps the focus on the same control of the same chat.
  const focused = list.contains(document.activeElement) ? document.activeElement : null;
  const focusedChat = focused?.closest('li')?.dataset['chatId'];
  const focusedClass = focused?.className;
  list.replaceChildren(
    ...[...chats].reverse().map((chat) => {
      const item = document.createElement('li');
      item.className = chat.id === currentId ? 'chat-item current' : 'chat-item';
      item.dataset['chatId'] = chat.id;
      const open = document.createElement('button');
      open.type = 'button';
      open.className = 'chat-open';
      open.textContent = chat.title || 'Untitled chat';
      if (chat.id === currentId) open.setAttribute('aria-current', 'true');
      open.addEventListener('click', () => actions.choose(chat.id));
      const rename = document.createElement('button');
      rename.type = 'button';
      rename.className = 'chat-rename';
      rename.textContent = '✎';
      rename.setAttribute('aria-label', `Rename chat ${chat.title}`);
      rename.addEventListener('click', () => {
        const title = prompt('New title', chat.title)?.trim();
        if (title) actions.rename(chat.id, title);
      });
      const remove = document.createElement('button');
      remove.type = 'button';
      remove.className = 'chat-delete';
      remove.textContent = '✕';
      remove.setAttribute('aria-label', `Delete chat ${chat.title}`);
      remove.addEventListener('click', () => {
        if (confirm(`Delete the chat “${chat.title}” and its messages?`)) actions.remove(chat.id);
      });
      item.append(open);
      if (streaming.has(chat.id)) {
        // Beside the title button, not in it: the button's accessible name stays the title.
        const mark = document.createElement('span');
        mark.className = 'chat-streaming';
        mark.setAttribute('role', 'img');
        mark.setAttribute('aria-label', 'An answer is streaming');
        mark.title = 'An answer is streaming';
        mark.textContent = '●';
        item.append(mark);
      }
      item.append(rename, remove);
      return item;
    }),
  );
  if (focusedChat && focusedClass) list.querySelector<HTMLElement>(`li[data-chat-id="${focusedChat}"] .${focusedClass}`)?.focus();
}
