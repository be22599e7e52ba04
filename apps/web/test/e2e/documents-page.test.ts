import { notCoveredReply } from '@ragstream/rag';
import { TestCluster } from '@ragstream/testing';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild, launchBrowser, screenshot } from './browser.ts';

const WAIT = { timeout: 30_000 };
// The offline answerer quotes the best sentences, markup included: the page must show it inert.
const DOCUMENT = `# The Brightwater lighthouse

The Brightwater lighthouse was built in 1872 by the engineer Elena Marsh.
Its lamp can be seen from 22 nautical miles away on a clear night.
The keeper's logbook mentions <img src=x onerror="window.__pwned = true"> a storm in 1901.
`;

let cluster: TestCluster;
let browser: Browser;

beforeAll(async () => {
  ensureWebBuild();
  [cluster, browser] = await Promise.all([TestCluster.start({ env: { LLM_PROVIDER: 'offline' } }), launchBrowser()]);
});

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

describe('documents view', () => {
  it('uploads a document, answers from it with its source cited, deletes it, and answers in the chosen language', async () => {
    const page = await browser.newPage();
    await page.goto(cluster.api());
    await page.getByText('Documents', { exact: true }).click();
    await page.getByLabel('Add a text, Markdown, HTML or PDF file').setInputFiles({
      name: 'lighthouse.md',
      mimeType: 'text/markdown',
      buffer: Buffer.from(DOCUMENT),
    });
    await page.getByRole('button', { name: 'Upload' }).click();
    const document = page.locator('#document-list li', { hasText: 'lighthouse.md' });
    await document.locator('.document-status', { hasText: 'ready' }).waitFor(WAIT);

    const input = page.getByLabel('Your message');
    await input.fill('When was the Brightwater lighthouse built?');
    await input.press('Enter');
    const answer = page.locator('li.message.bot:not(.live)');
    await answer.locator('.text').getByText('1872', { exact: false }).waitFor(WAIT);
    await answer.locator('.sources summary').click();
    await answer.locator('.source.cited', { hasText: 'lighthouse.md' }).first().waitFor(WAIT);
    await screenshot(page, 'documents');

    await input.fill('What does the logbook of the keeper mention?');
    await input.press('Enter');
    await answer.nth(1).locator('.text').getByText('storm', { exact: false }).waitFor(WAIT);
    // The quoted <img> is shown (so the check means something), without its handler.
    expect(await answer.nth(1).locator('.text img').count()).toBe(1);
    expect(await page.locator('li.message.bot [onerror]').count()).toBe(0);
    expect(await page.evaluate('window.__pwned')).toBeUndefined();

    await document.getByRole('button', { name: 'Delete document lighthouse.md' }).click();
    await document.waitFor({ state: 'detached', ...WAIT });

    // The language choice is sent as selectedLanguage: with no document left, the reply says so in Hindi.
    await page.getByLabel('Answer in').selectOption('hi');
    await input.fill('What does the logbook of the keeper mention?');
    await input.press('Enter');
    await answer.nth(2).locator('.text').getByText(notCoveredReply('hi'), { exact: false }).waitFor(WAIT);
    await page.close();
  });
});
