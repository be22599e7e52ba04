import type { ChatMessage, Page as RestPage } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import { TestCluster } from '@ragstream/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild, launchBrowser, screenshot } from './browser.ts';
import { DroppingProxy } from './dropping-proxy.ts';

// About five seconds per answer: long enough to stop it or reload in the middle of it.
const TOKENS = 150;
const FULL_ANSWER = syntheticAnswer(TOKENS).trim();
const LAST_TOKEN = `queue${TOKENS}`;
const WAIT = { timeout: 30_000 };

let cluster: TestCluster;
let browser: Browser;

beforeAll(async () => {
  ensureWebBuild();
  [cluster, browser] = await Promise.all([
    TestCluster.start({ env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '30' } }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

async function storedMessages(chatId: string): Promise<ChatMessage[]> {
  const res = await fetch(`${cluster.api()}/chat/${chatId}/messages?limit=200`);
  return ((await res.json()) as RestPage<ChatMessage>).items;
}

function chatIdOf(page: Page): string {
  const chatId = new URL(page.url()).searchParams.get('chat');
  if (!chatId) throw new Error(`no chat in ${page.url()}`);
  return chatId;
}

async function ask(page: Page, text: string): Promise<void> {
  const input = page.getByLabel('Your message');
  await input.fill(text);
  await input.press('Enter');
}

const answers = (page: Page) => page.locator('li.message.bot:not(.live)');
const liveAnswer = (page: Page) => page.locator('li.message.bot.live');

describe('chat page', () => {
  it('streams an answer into a new chat of a first-time visitor', async () => {
    const page = await browser.newPage();
    await page.goto(cluster.api());
    await expect.poll(() => page.locator('#connection').textContent()).toBe('Not connected');
    const input = page.getByLabel('Your message');
    // The keyboard alone: the message box has the focus at once; Shift+Enter adds a line, Enter sends.
    await expect.poll(() => page.evaluate('document.activeElement?.id')).toBe('composer-input');
    await page.keyboard.type('How do queues work?');
    await page.keyboard.press('Shift+Enter');
    await expect.poll(() => input.inputValue()).toBe('How do queues work?\n');
    await page.keyboard.press('Enter');
    expect(await page.locator('#messages').getAttribute('aria-live')).toBe('polite');

    await liveAnswer(page).locator('.typing').waitFor(WAIT);
    await liveAnswer(page).getByText('token2', { exact: false }).waitFor(WAIT);
    await screenshot(page, 'streaming');
    await answers(page).getByText(LAST_TOKEN, { exact: false }).waitFor(WAIT);
    expect(await page.locator('#connection').textContent()).toBe('Connected');
    expect(await page.getByRole('button', { name: 'Stop' }).isDisabled()).toBe(true);

    const stored = (await storedMessages(chatIdOf(page))).filter((m) => m.role === 'bot');
    expect(stored.map((m) => m.text.trim())).toEqual([FULL_ANSWER]);
    expect(((await answers(page).locator('.text').textContent()) ?? '').trim()).toBe(FULL_ANSWER);
    expect(await page.locator('#chat-list li').count()).toBe(1);
    await page.close();
  });

  it('renames and deletes a chat from the list', async () => {
    const page = await browser.newPage();
    page.on('dialog', (dialog) => void (dialog.type() === 'prompt' ? dialog.accept('Renamed chat') : dialog.accept()));
    await page.goto(cluster.api());
    await ask(page, 'A chat to rename');
    await page.waitForURL(/[?&]chat=/, WAIT);
    const chatId = chatIdOf(page);
    await page.getByRole('button', { name: 'Rename chat A chat to rename' }).click();
    await page.getByRole('button', { name: 'Renamed chat', exact: true }).waitFor(WAIT);
    expect(await page.locator('#chat-title').textContent()).toBe('Renamed chat');
    await page.getByRole('button', { name: 'Delete chat Renamed chat' }).click();
    await page
      .locator('#chat-list li')
      .first()
      .waitFor({ state: 'detached', ...WAIT });
    expect((await fetch(`${cluster.api()}/chat/${chatId}`)).status).toBe(404);
    expect(new URL(page.url()).searchParams.get('chat')).toBeNull();
    await page.close();
  });

  it('stops an answer with the Stop button', async () => {
    const page = await browser.newPage();
    await page.goto(cluster.api());
    await ask(page, 'Tell me everything');
    await liveAnswer(page).getByText('token2', { exact: false }).waitFor(WAIT);
    await page.getByRole('button', { name: 'Stop' }).click();
    await answers(page).getByText('Stopped.').waitFor(WAIT);
    await screenshot(page, 'stopped');

    const [bot] = (await storedMessages(chatIdOf(page))).filter((m) => m.role === 'bot');
    expect(bot?.status).toBe('stopped');
    expect(bot?.text.length).toBeLessThan(FULL_ANSWER.length);
    expect(((await answers(page).locator('.text').textContent()) ?? '').trim()).toBe(bot?.text.trim());
    await page.close();
  });

  it('continues an answer after a reload in the middle of it', async () => {
    const page = await browser.newPage();
    await page.goto(cluster.api());
    await ask(page, 'A long answer, please');
    await liveAnswer(page).getByText('token2', { exact: false }).waitFor(WAIT);
    const chatId = chatIdOf(page);
    await page.reload();

    expect(chatIdOf(page)).toBe(chatId);
    await answers(page).getByText(LAST_TOKEN, { exact: false }).waitFor(WAIT);
    await screenshot(page, 'reloaded');
    const bots = (await storedMessages(chatId)).filter((m) => m.role === 'bot');
    expect(bots.map((m) => m.text.trim())).toEqual([FULL_ANSWER]);
    expect(((await answers(page).locator('.text').textContent()) ?? '').trim()).toBe(FULL_ANSWER);
    await expect.poll(() => page.locator('li.message.user').count()).toBe(1);
    await page.close();
  });

  it('reconnects by itself after a network drop and resumes the answer without a gap or a duplicate', async () => {
    const proxy = await DroppingProxy.start(cluster.api());
    const page = await browser.newPage();
    try {
      await page.goto(proxy.url);
      await ask(page, 'Keep talking');
      await liveAnswer(page).getByText('token2', { exact: false }).waitFor(WAIT);
      proxy.dropAll();
      await page.locator('#connection', { hasText: 'Reconnecting' }).waitFor(WAIT);
      await page.locator('#connection', { hasText: /^Connected$/ }).waitFor(WAIT);
      await answers(page).getByText(LAST_TOKEN, { exact: false }).waitFor(WAIT);
      const bots = (await storedMessages(chatIdOf(page))).filter((m) => m.role === 'bot');
      expect(bots.map((m) => m.text.trim())).toEqual([FULL_ANSWER]);
      expect(((await answers(page).locator('.text').textContent()) ?? '').trim()).toBe(FULL_ANSWER);
    } finally {
      await page.close();
      await proxy.close();
    }
  });

  it('shows a second tab the new chat and the answer streaming in the first, through the user channel', async () => {
    const context = await browser.newContext();
    const first = await context.newPage();
    await first.goto(cluster.api());
    // The second tab opens once the first has made up the visitor's user id, as a real second tab would.
    await expect.poll(() => first.evaluate("localStorage.getItem('ragstream.userId')")).not.toBeNull();
    const second = await context.newPage();
    // Socket.IO packets the second tab receives: its user-level connection is its only one until it opens a chat.
    const received: string[] = [];
    second.on('websocket', (ws) => ws.on('framereceived', ({ payload }) => received.push(String(payload))));
    await second.goto(cluster.api());
    await expect.poll(() => received.some((p) => p.startsWith('40/chat,')), WAIT).toBe(true);

    await ask(first, 'Hello from the first tab');
    // The list shows the chat as soon as it exists, a moment before the tab opens it and puts it in the URL.
    await first.waitForURL(/[?&]chat=/, WAIT);
    const chatId = chatIdOf(first);
    // No polling: the chat_created event puts it in the second tab's list at once, and answer_started marks it.
    const inSecond = second.locator(`#chat-list li[data-chat-id="${chatId}"]`);
    await inSecond.waitFor({ timeout: 2000 });
    expect(received.some((p) => p.includes('"chat_created"') && p.includes(chatId))).toBe(true);
    await inSecond.locator('.chat-streaming').waitFor({ timeout: 2000 });
    await inSecond.locator('.chat-open').click(WAIT);
    await answers(second).getByText(LAST_TOKEN, { exact: false }).waitFor(WAIT);
    await expect.poll(() => inSecond.locator('.chat-streaming').count()).toBe(0);

    await ask(first, 'And a second question');
    await liveAnswer(second).getByText('token2', { exact: false }).waitFor(WAIT);
    await second.getByText('And a second question').waitFor(WAIT);
    await screenshot(second, 'second-tab');
    await expect.poll(() => answers(second).getByText(LAST_TOKEN, { exact: false }).count(), WAIT).toBe(2);

    // A rename and a delete elsewhere reach both tabs the same way.
    await fetch(`${cluster.api()}/chat/${chatId}`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'Renamed elsewhere' }),
    });
    for (const tab of [first, second]) await tab.locator('#chat-title', { hasText: 'Renamed elsewhere' }).waitFor({ timeout: 2000 });
    await fetch(`${cluster.api()}/chat/${chatId}`, { method: 'DELETE' });
    for (const tab of [first, second]) await tab.locator('#chat-list li').first().waitFor({ state: 'detached', timeout: 2000 });
    expect(new URL(second.url()).searchParams.get('chat')).toBeNull();
    await context.close();
  });
});
