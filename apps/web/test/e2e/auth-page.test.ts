import type { Chat, Page as RestPage } from '@ragstream/protocol';
import { syntheticAnswer } from '@ragstream/rag';
import { signHs256, TEST_JWT_SECRET, TestCluster } from '@ragstream/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild, launchBrowser } from './browser.ts';

const TOKENS = 20;
const WAIT = { timeout: 30_000 };

let cluster: TestCluster;
let browser: Browser;

beforeAll(async () => {
  ensureWebBuild();
  [cluster, browser] = await Promise.all([
    TestCluster.start({ env: { AUTH_JWT_SECRET: TEST_JWT_SECRET, LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS) } }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

describe('chat page with authentication on', () => {
  it('takes the token from #token=, keeps it for the tab only, and chats as its sub', async () => {
    const token = await signHs256(TEST_JWT_SECRET, { sub: 'web-alice' }, { expiresIn: 600 });
    const page = await browser.newPage();
    await page.goto(`${cluster.api()}/#token=${token}`);
    // Out of the URL at once: not bookmarked, not shared with a link.
    await expect.poll(() => new URL(page.url()).hash).toBe('');
    expect(await page.evaluate("sessionStorage.getItem('ragstream.token')")).toBe(token);

    const input = page.getByLabel('Your message');
    await input.fill('Hello with a token');
    await input.press('Enter');
    await page.locator('li.message.bot:not(.live)').getByText(`queue${TOKENS}`, { exact: false }).waitFor(WAIT);
    expect(await page.locator('#connection').textContent()).toBe('Connected');

    const listed = await fetch(`${cluster.api()}/chat/user/web-alice`, { headers: { authorization: `Bearer ${token}` } });
    const chats = ((await listed.json()) as RestPage<Chat>).items;
    expect(chats.map((c) => [c.userId, c.title])).toEqual([['web-alice', 'Hello with a token']]);
    const stored = await fetch(`${cluster.api()}/chat/${chats[0]?.id}/messages`, { headers: { authorization: `Bearer ${token}` } });
    const texts = ((await stored.json()) as RestPage<{ role: string; text: string }>).items.map((m) => m.text.trim());
    expect(texts).toEqual(['Hello with a token', syntheticAnswer(TOKENS).trim()]);

    // A reload keeps the token (sessionStorage) and the chat.
    await page.reload();
    await page.getByRole('button', { name: 'Hello with a token', exact: true }).waitFor(WAIT);
    await page.close();
  });

  it('without a token the page says that it needs one', async () => {
    const page = await browser.newPage();
    await page.goto(cluster.api());
    await expect
      .poll(() => page.locator('#stage').textContent(), WAIT)
      .toMatch(/Sign-in needed \(a token is required.*\): open this page as \/#token=/);
    await page.close();
  });
});
