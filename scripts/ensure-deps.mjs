// Installs the dependencies when they are missing or older than the lockfile.
// Node built-ins only: it runs before anything is installed.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const [major] = process.versions.node.split('.').map(Number);
if ((major ?? 0) < 20) {
  console.error(`RagStream needs Node.js 20 or newer; this is ${process.versions.node}.`);
  process.exit(1);
}

const lockfile = join(root, 'package-lock.json');
const installed = join(root, 'node_modules', '.package-lock.json');
const markers = ['tsx', 'vitest', 'better-sqlite3/build/Release/better_sqlite3.node', 'hnswlib-node/build/Release/addon.node'].map((m) =>
  join(root, 'node_modules', m),
);
const stale = !existsSync(installed) || statSync(installed).mtimeMs < statSync(lockfile).mtimeMs;
if (stale || markers.some((m) => !existsSync(m))) {
  console.error('Installing dependencies (npm ci; better-sqlite3 may build from source, about a minute)...');
  const result = spawnSync('npm', ['ci', '--no-audit', '--no-fund'], { cwd: root, stdio: 'inherit' });
  if (result.status !== 0) {
    console.error('npm ci failed; see the output above.');
    process.exit(result.status ?? 1);
  }
}
