import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

/**
 * Opens the embedded database file that API nodes and workers on one host share:
 * WAL plus a busy timeout, so that readers never block and writers wait their turn.
 */
export function openSqliteDatabase(filename: string): Database.Database {
  mkdirSync(dirname(filename), { recursive: true });
  const db = new Database(filename);
  // Set first, so that switching to WAL waits for a process holding the file instead of failing.
  db.pragma('busy_timeout = 5000');
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  return db;
}
