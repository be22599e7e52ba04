import type { Chat, ChatMessage, ServerFrame, UserFrame } from '@ragstream/protocol';
import './style.css';
import { renderChatList } from './chat-list-view.ts';
import { ChatSocket, type ConnectionState } from './chat-socket.ts';
import { DocumentsView } from './documents-view.ts';
import { initialChatId, language, organisationId, rememberChat, rememberLanguage, userId } from './identity.ts';
import { type LiveAnswer, LiveAnswers } from './live-answers.ts';
import { liveAnswerView, messageView, stageText } from './message-view.ts';
import { RestError, rest } from './rest-client.ts';
import { UserSocket } from './user-socket.ts';

function byId<T extends HTMLElement>(id: string): T {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} is missing from index.html`);
  return el as T;
}

const ui = {
  chatList: byId<HTMLUListElement>('chat-list'),
  newChat: byId<HTMLButtonElement>('new-chat'),
  title: byId<HTMLHeadingElement>('chat-title'),
  connection: byId<HTMLSpanElement>('connection'),
  messages: byId<HTMLOListElement>('messages'),
  stage: byId<HTMLParagraphElement>('stage'),
  form: byId<HTMLFormElement>('composer'),
  input: byId<HTMLTextAreaElement>('composer-input'),
  language: byId<HTMLSelectElement>('language'),
  send: byId<HTMLButtonElement>('send'),
  stop: byId<HTMLButtonElement>('stop'),
};

const CONNECTION_TEXT: Record<ConnectionState, string> = {
  connecting: 'Connecting…',
  connected: 'Connected',
  reconnecting: 'Reconnecting…',
  failed: 'Disconnected',
};

class ChatPage {
  private readonly user = userId();
  private chats: Chat[] = [];
  /** Chats where an answer started (`answer_started`) and was not yet seen to end: chatId -> generationId. */
  private readonly streaming = new Map<string, string>();
  /** Counts the changes applied to the list (user frames, this tab's own REST answers), so that a listing fetched meanwhile is known to be older. */
  private listChanges = 0;
  private chatId: string | null = initialChatId();
  private messages: ChatMessage[] = [];
  /** User messages sent but not yet confirmed, by clientMessageId. */
  private pending = new Map<string, ChatMessage>();
  private live: LiveAnswers | null = null;
  private socket: ChatSocket | null = null;
  /** Shown on the stage line while no answer streams: that the API wants a token this tab lacks. */
  private notice = '';
  /** The unknown question last fetched over REST, so that each partial frame does not fetch again. */
  private fetchedFor: string | null = null;

  async start(): Promise<void> {
    ui.language.value = language();
    // A chat page is for typing: a first-time visitor types at once (the skip link serves the keyboard too).
    ui.input.focus();
    ui.language.addEventListener('change', () => rememberLanguage(ui.language.value === 'hi' ? 'hi' : 'en'));
    ui.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.send();
    });
    ui.input.addEventListener('keydown', (event) => {
      if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        void this.send();
      }
    });
    ui.stop.addEventListener('click', () => this.socket?.stop());
    ui.newChat.addEventListener('click', () => {
      void this.open(null);
      ui.input.focus();
    });
    // A new `#token=` pasted into this tab's address bar: start again as that user.
    window.addEventListener('hashchange', () => {
      if (new URLSearchParams(location.hash.slice(1)).has('token')) location.reload();
    });
    // The user's channel keeps the list in step; a refresh on focus and on each (re)connect covers what it missed.
    window.addEventListener('focus', () => void this.refreshChats());
    new UserSocket(this.user, { frame: (frame) => this.onUserFrame(frame), connected: () => void this.refreshChats() });
    await this.refreshChats();
    await this.open(this.chatId && this.chats.some((c) => c.id === this.chatId) ? this.chatId : null);
  }

  private async refreshChats(): Promise<void> {
    let chats: Chat[];
    const changes = this.listChanges;
    try {
      chats = await rest.listChats(this.user);
    } catch (err) {
      this.showError('Could not load your chats', err);
      return;
    }
    const unmarked = await this.recheckStreaming();
    // A user frame applied meanwhile may be newer than this listing: list again.
    if (this.listChanges !== changes) return this.refreshChats();
    // A refresh must not rebuild an unchanged list: that would take the keyboard focus away.
    const key = (list: Chat[]) => list.map((c) => `${c.id}\t${c.title}`).join('\n');
    if (!unmarked && key(chats) === key(this.chats)) return;
    this.chats = chats;
    this.renderChats();
  }

  /**
   * Unmarks chats whose answer ended unseen (no user frame says so; the open chat's own
   * frames do); returns whether any was unmarked.
   */
  private async recheckStreaming(): Promise<boolean> {
    let unmarked = false;
    for (const chatId of [...this.streaming.keys()]) {
      try {
        if ((await rest.chatStatus(chatId)).generating === null) unmarked = this.streaming.delete(chatId) || unmarked;
      } catch (err) {
        if (err instanceof RestError && err.code === 'chat_not_found') unmarked = this.streaming.delete(chatId) || unmarked;
        else this.showError('Could not check the chat', err);
      }
    }
    return unmarked;
  }

  private onUserFrame(frame: UserFrame): void {
    this.listChanges += 1;
    if (frame.mt === 'chat_created' || frame.mt === 'chat_renamed') this.upsertChat(frame.chat);
    else if (frame.mt === 'answer_started') this.streaming.set(frame.chatId, frame.generationId);
    else {
      this.chats = this.chats.filter((c) => c.id !== frame.chatId);
      this.streaming.delete(frame.chatId);
      if (frame.chatId === this.chatId) {
        void this.open(null);
        return;
      }
    }
    this.renderChats();
  }

  /**
   * Adds a chat or replaces an older version of it: this tab's own REST answer and the user
   * frames about the chat (from any tab) may come in any order.
   */
  private upsertChat(chat: Chat): void {
    this.listChanges += 1;
    const index = this.chats.findIndex((c) => c.id === chat.id);
    const known = this.chats[index];
    if (!known) this.chats.push(chat);
    else if (chat.updatedAt >= known.updatedAt) this.chats[index] = chat;
  }

  private renderChats(): void {
    renderChatList(ui.chatList, this.chats, this.chatId, new Set(this.streaming.keys()), {
      choose: (id) => void this.open(id),
      rename: (id, title) => void this.rename(id, title),
      remove: (id) => void this.remove(id),
    });
    ui.title.textContent = this.chats.find((c) => c.id === this.chatId)?.title ?? 'New chat';
  }

  /** Shows a chat (null: a new, not yet created one) and connects to it. */
  private async open(chatId: string | null): Promise<void> {
    this.socket?.close();
    this.socket = null;
    this.chatId = chatId;
    this.messages = [];
    this.pending.clear();
    this.live = chatId ? new LiveAnswers(chatId) : null;
    rememberChat(chatId);
    this.renderChats();
    this.renderMessages();
    this.setConnection(chatId ? 'connecting' : null);
    if (!chatId) return;
    await this.reloadMessages();
    const live = this.live;
    if (this.chatId !== chatId || !live) return;
    this.socket = new ChatSocket(chatId, () => live.resumePoint(), {
      frame: (frame) => this.onFrame(chatId, frame),
      state: (state, detail) => this.setConnection(state, detail),
    });
  }

  private async reloadMessages(): Promise<void> {
    const chatId = this.chatId;
    if (!chatId) return;
    try {
      const messages = await rest.listMessages(chatId);
      if (this.chatId !== chatId) return;
      this.messages = messages;
      // An answer already stored is no longer live (it ended while this page was away).
      for (const answer of this.live?.list() ?? []) {
        if (messages.some((m) => m.role === 'bot' && m.generationId === answer.generationId)) this.live?.drop(answer.generationId);
      }
      const started = this.streaming.get(chatId);
      if (started !== undefined && messages.some((m) => m.role === 'bot' && m.generationId === started)) this.answerEnded(chatId, started);
    } catch (err) {
      this.showError('Could not load the messages', err);
    }
    this.renderMessages();
  }

  private onFrame(chatId: string, frame: ServerFrame): void {
    if (chatId !== this.chatId || !this.live) return;
    if (frame.mt === 'message_upload_confirm') {
      const sent = frame.clientMessageId ? this.pending.get(frame.clientMessageId) : undefined;
      if (sent && frame.clientMessageId) {
        this.pending.delete(frame.clientMessageId);
        if (!this.messages.some((m) => m.id === frame.messageId)) this.messages.push({ ...sent, id: frame.messageId });
        this.renderMessages();
      }
      return;
    }
    if (frame.mt === 'error') {
      // The node is about to close this connection (this tab fell behind); the socket reconnects and resumes by itself.
      if (frame.code === 'slow_consumer') return;
      if (frame.clientMessageId) this.pending.delete(frame.clientMessageId);
      this.renderMessages();
      this.showError(frame.message);
      return;
    }
    const effect = this.live.apply(frame);
    if (effect.kind === 'reload') {
      void this.reloadMessages();
      return;
    }
    if (frame.mt === 'chat_message_bot_complete') {
      this.answerEnded(chatId, frame.generationId);
      if (!this.messages.some((m) => m.id === frame.messageId)) {
        const now = new Date().toISOString();
        this.messages.push({
          id: frame.messageId,
          chatId,
          role: 'bot',
          text: frame.text,
          status: frame.status,
          generationId: frame.generationId,
          sources: frame.sources,
          grounded: frame.grounded,
          createdAt: now,
          updatedAt: now,
        });
      }
      this.renderMessages();
      return;
    }
    if (effect.kind !== 'live') return;
    // A message sent from another tab: its text comes over REST.
    const replyTo = effect.answer.replyTo;
    if (replyTo && replyTo !== this.fetchedFor && this.pending.size === 0 && !this.messages.some((m) => m.id === replyTo)) {
      this.fetchedFor = replyTo;
      void this.reloadMessages();
    }
    this.renderLive(effect.answer);
  }

  private async send(): Promise<void> {
    const text = ui.input.value.trim();
    if (!text) return;
    ui.input.value = '';
    if (!this.chatId) {
      try {
        const chat = await rest.createChat(this.user, text.slice(0, 60), organisationId());
        this.upsertChat(chat);
        await this.open(chat.id);
      } catch (err) {
        ui.input.value = text;
        this.showError('Could not create a chat', err);
        return;
      }
    }
    const chatId = this.chatId;
    if (!chatId || !this.socket) return;
    const clientMessageId = crypto.randomUUID();
    const now = new Date().toISOString();
    this.pending.set(clientMessageId, {
      id: `pending-${clientMessageId}`,
      chatId,
      role: 'user',
      text,
      clientMessageId,
      createdAt: now,
      updatedAt: now,
    });
    this.renderMessages();
    this.socket.upload({
      message: text,
      userId: this.user,
      clientMessageId,
      selectedLanguage: ui.language.value,
      timezone: Intl.DateTimeFormat().resolvedOptions().timeZone,
    });
  }

  private async rename(chatId: string, title: string): Promise<void> {
    try {
      this.upsertChat(await rest.renameChat(chatId, title));
    } catch (err) {
      this.showError('Could not rename the chat', err);
    }
    this.renderChats();
  }

  private async remove(chatId: string): Promise<void> {
    try {
      await rest.deleteChat(chatId);
      this.listChanges += 1;
      this.chats = this.chats.filter((c) => c.id !== chatId);
      this.streaming.delete(chatId);
    } catch (err) {
      this.showError('Could not delete the chat', err);
    }
    if (chatId === this.chatId) await this.open(null);
    else this.renderChats();
  }

  /** Unmarks the chat in the list once the answer it was marked for has ended. */
  private answerEnded(chatId: string, generationId: string): void {
    if (this.streaming.get(chatId) !== generationId) return;
    this.streaming.delete(chatId);
    this.renderChats();
  }

  private renderMessages(): void {
    const items = [...this.messages, ...this.pending.values()].map((m) => messageView(m));
    ui.messages.replaceChildren(...items);
    for (const answer of this.live?.list() ?? []) this.renderLive(answer);
    if (!this.live?.list().length) this.setStreaming(null);
  }

  /** Replaces (or adds) the bubble of one streaming answer, after the message it answers. */
  private renderLive(answer: LiveAnswer): void {
    const view = liveAnswerView(answer);
    const existing = ui.messages.querySelector(`li.live[data-generation-id="${answer.generationId}"]`);
    if (existing) existing.replaceWith(view);
    else {
      const question = answer.replyTo ? ui.messages.querySelector(`li[data-message-id="${answer.replyTo}"]`) : null;
      if (question) question.after(view);
      else ui.messages.append(view);
    }
    this.setStreaming(answer);
    view.scrollIntoView({ block: 'end' });
  }

  private setStreaming(answer: LiveAnswer | null): void {
    ui.stop.disabled = answer === null;
    ui.stage.textContent = answer ? stageText(answer) : this.notice;
  }

  private setConnection(state: ConnectionState | null, detail?: string): void {
    ui.connection.dataset['state'] = state ?? 'idle';
    ui.connection.textContent = state ? CONNECTION_TEXT[state] : 'Not connected';
    ui.connection.title = detail ?? '';
  }

  private showError(message: string, err?: unknown): void {
    // The API has authentication on and this tab has no valid token: say so until the page is opened with one.
    if (err instanceof RestError && (err.code === 'unauthorized' || err.code === 'token_expired')) {
      this.notice = `Sign-in needed (${err.message}): open this page as /#token=<your token>.`;
    }
    ui.stage.textContent = err === undefined ? message : `${message}: ${err instanceof Error ? err.message : String(err)}`;
  }
}

new ChatPage().start().catch((err: unknown) => {
  ui.stage.textContent = `The page could not start: ${err instanceof Error ? err.message : String(err)}`;
});
const documentsStatus = byId<HTMLParagraphElement>('upload-status');
new DocumentsView(
  byId<HTMLSelectElement>('organisation'),
  byId<HTMLFormElement>('upload-form'),
  byId<HTMLInputElement>('upload-file'),
  documentsStatus,
  byId<HTMLUListElement>('document-list'),
)
  .start()
  .catch((err: unknown) => {
    documentsStatus.textContent = `Could not load the organisations: ${err instanceof Error ? err.message : String(err)}`;
  });
