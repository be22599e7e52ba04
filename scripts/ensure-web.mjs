// Builds the chat page (apps/web → apps/web/dist) when the build is missing or older than
// its sources; returns at once when it is up to date. Used by npm start and the browser tests.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const web = join(dirname(fileURLToPath(import.meta.url)), '..', 'apps', 'web');
const dist = join(web, 'dist');
const SOURCES = ['src', 'index.html', 'vite.config.mjs', 'package.json'];

function newest(path) {
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(stat.mtimeMs, ...readdirSync(path).map((name) => newest(join(path, name))));
}

export function webIsFresh() {
  const index = join(dist, 'index.html');
  if (!existsSync(index)) return false;
  const built = statSync(index).mtimeMs;
  return SOURCES.every((source) => newest(join(web, source)) <= built);
}

export function ensureWeb() {
  if (webIsFresh()) return;
  console.error('Building the chat page (apps/web)...');
  // A private output directory, swapped in at the end: two callers at once (two test files)
  // must not serve or delete each other's half-written build.
  const out = `dist.tmp-${process.pid}`;
  const vite = join(dirname(createRequire(join(web, 'package.json')).resolve('vite/package.json')), 'bin', 'vite.js');
  const build = spawnSync(process.execPath, [vite, 'build', '--outDir', out, '--emptyOutDir', '--logLevel', 'warn'], {
    cwd: web,
    stdio: 'inherit',
  });
  if (build.status !== 0) {
    rmSync(join(web, out), { recursive: true, force: true });
    throw new Error(`vite build failed (exit ${build.status ?? build.signal})`);
  }
  rmSync(dist, { recursive: true, force: true });
  try {
    renameSync(join(web, out), dist);
  } catch (err) {
    // Another caller swapped its build in first; it is built from the same sources.
    if (err.code !== 'ENOTEMPTY' && err.code !== 'EEXIST') throw err;
    rmSync(join(web, out), { recursive: true, force: true });
  }
}

// Compare URLs of the real path: a checkout path with spaces or behind a symlink must still run.
const invoked = process.argv[1] ? pathToFileURL(realpathSync(process.argv[1])).href : '';
if (import.meta.url === invoked) ensureWeb();
