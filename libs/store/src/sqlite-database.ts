import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

const BUSY_TIMEOUT_MS = 5000;
const MAX_WAL_RETRY_DELAY_MS = 200;

/**
 * Opens the embedded database file that API nodes and workers on one host share:
 * WAL plus a busy timeout, so that readers never block and writers wait their turn.
 */
export function openSqliteDatabase(filename: string): Database.Database {
  mkdirSync(dirname(filename), { recursive: true });
  const db = new Database(filename);
  try {
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
    switchToWal(db, filename);
    db.pragma('synchronous = NORMAL');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * Switching a fresh file to WAL needs an exclusive lock that SQLite takes without calling the
 * busy handler, so it fails at once while another process reads the file (processes starting
 * together). Retry it with a jittered backoff for as long as the busy timeout would wait.
 */
function switchToWal(db: Database.Database, filename: string): void {
  const deadline = Date.now() + BUSY_TIMEOUT_MS;
  for (let delay = 5; ; delay = Math.min(delay * 2, MAX_WAL_RETRY_DELAY_MS)) {
    try {
      const mode: unknown = db.pragma('journal_mode = WAL', { simple: true });
      if (mode !== 'wal') throw new Error(`${filename}: SQLite cannot use WAL here (journal mode stays ${String(mode)})`);
      return;
    } catch (err) {
      const busy = err instanceof Database.SqliteError && err.code.startsWith('SQLITE_BUSY');
      if (!busy || Date.now() + delay > deadline) throw err;
    }
    sleepSync(delay / 2 + Math.random() * delay);
  }
}

// Opening is synchronous (store constructors), and this only runs while a process starts.
function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
