import { syntheticAnswer } from '@ragstream/rag';
import { TestCluster } from '@ragstream/testing';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureWebBuild, launchBrowser, screenshot } from './browser.ts';

const TOKENS = 20;
const ADMIN_TOKEN = 'csp-test-admin-token-0123456789';
const WAIT = { timeout: 30_000 };

let cluster: TestCluster;
let browser: Browser;

beforeAll(async () => {
  ensureWebBuild();
  [cluster, browser] = await Promise.all([
    TestCluster.start({
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '100', ADMIN_TOKEN },
    }),
    launchBrowser(),
  ]);
});

afterAll(async () => {
  await browser?.close();
  await cluster?.stop();
});

/** Every Content-Security-Policy violation the page reports on its console. */
function cspViolations(page: Page): string[] {
  const violations: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy/i.test(message.text())) violations.push(message.text());
  });
  return violations;
}

describe('the Content-Security-Policy (helmet) lets both pages of the node work', () => {
  it('the chat page loads, streams an answer over Socket.IO and reports no violation', async () => {
    const page = await browser.newPage();
    const violations = cspViolations(page);
    const response = await page.goto(cluster.api());
    expect(response?.headers()['content-security-policy']).toContain("script-src 'self'");
    const input = page.getByLabel('Your message');
    await input.fill('Does the policy let the page talk?');
    await input.press('Enter');
    const last = syntheticAnswer(TOKENS).trim().split(' ').at(-1) ?? '';
    await page.locator('li.message.bot:not(.live)').getByText(last, { exact: false }).waitFor(WAIT);
    expect(await page.locator('#connection').textContent()).toBe('Connected');
    expect(violations).toEqual([]);
    await page.close();
  });

  it('Bull Board renders its queues after the login and reports no violation', async () => {
    const page = await browser.newPage();
    const violations = cspViolations(page);
    // Bull Board asks Google Fonts for its typeface; the test machine may have no way out, and the policy allows it anyway.
    await page.route(/fonts\.(googleapis|gstatic)\.com/, (route) => route.fulfill({ status: 200, contentType: 'text/css', body: '' }));
    await page.goto(`${cluster.api()}/admin/login`);
    await page.getByLabel('Admin token').fill(ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForURL(/\/admin\/queues/, WAIT);
    // Rendered by the board's own scripts from its JSON API: the queue names appear only if they ran.
    await page.getByText('generate', { exact: false }).first().waitFor(WAIT);
    await page.getByText('ingest', { exact: false }).first().waitFor(WAIT);
    await screenshot(page, 'bull-board');
    expect(violations).toEqual([]);
    await page.close();
  });
});
