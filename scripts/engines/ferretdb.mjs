// FerretDB v1 (SQLite backend) as the MongoDB server of the engine tests: built with Go from the
// Go module proxy (scripts/engines/ferretdb/, pinned by its go.sum), no download at run time.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { findCommand, run, spawnDetached } from '../engines.mjs';

const SOURCE_DIR = join(dirname(fileURLToPath(import.meta.url)), 'ferretdb');
const SOURCES = ['main.go', 'go.mod', 'go.sum'];

/** The build's identity: a changed source or go.sum rebuilds it. */
function sourceHash() {
  const hash = createHash('sha256');
  for (const file of SOURCES) hash.update(readFileSync(join(SOURCE_DIR, file)));
  return hash.digest('hex');
}

export default {
  name: 'ferretdb',
  defaultPort: 27017,
  readyTimeoutMs: 30_000,

  env: (port) => ({ MONGODB_URL: `mongodb://127.0.0.1:${port}/ragstream` }),

  async install({ cacheDir, log }) {
    const binary = join(cacheDir, 'bin', 'ferretdb');
    const stamp = join(cacheDir, 'bin', 'ferretdb.sha256');
    const hash = sourceHash();
    if (existsSync(binary) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return;
    const go = findCommand('go', ['/usr/local/go/bin/go']);
    if (!go) throw new Error('ferretdb: Go 1.24 or newer is needed to build FerretDB (https://go.dev/doc/install)');
    log('building FerretDB with Go (a few minutes the first time; cached after)');
    mkdirSync(dirname(binary), { recursive: true });
    // No PostgreSQL backend: a smaller, faster build; the tests use SQLite.
    await run(go, ['build', '-trimpath', '-tags', 'ferretdb_no_postgresql', '-o', binary, '.'], {
      cwd: SOURCE_DIR,
      env: { GOFLAGS: '-mod=readonly' },
    });
    writeFileSync(stamp, `${hash}\n`);
  },

  start({ cacheDir, dataDir, port, logPath }) {
    return spawnDetached(join(cacheDir, 'bin', 'ferretdb'), ['-listen', `127.0.0.1:${port}`, '-data', dataDir], { logPath });
  },

  /** FerretDB opens its listener once its backend is ready. */
  ready({ port }) {
    return new Promise((resolve) => {
      const socket = connect({ host: '127.0.0.1', port });
      const done = (ok) => {
        socket.destroy();
        resolve(ok);
      };
      socket.setTimeout(1000, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => done(true));
    });
  },
};
