import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';

export { launchBrowser } from '@ragstream/testing/browser';

const ROOT = fileURLToPath(new URL('../../../..', import.meta.url));
const SCREENSHOTS = fileURLToPath(new URL('../screenshots/', import.meta.url));

/** Builds apps/web when its dist is missing or stale (fast when up to date). */
export function ensureWebBuild(): void {
  const build = spawnSync(process.execPath, ['scripts/ensure-web.mjs'], { cwd: ROOT, stdio: 'inherit' });
  if (build.status !== 0) throw new Error(`scripts/ensure-web.mjs failed (exit ${build.status ?? build.signal})`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: `${SCREENSHOTS}${name}.png` });
}
