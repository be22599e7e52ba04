import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'ragstream-sqlite-open-'));
// As in the incident: two API nodes and two workers.
const PROCESSES = 4;
// Loading tsx in several processes at once takes seconds on a busy machine.
const TIMEOUT_MS = 120_000;
const ROUNDS = 3;

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * Run in separate node processes: load the opener, say so, and on a line on stdin open the
 * file and print its journal mode. The go line reaches all children within a millisecond,
 * which a common start time cannot promise while they load on a busy machine.
 */
const CHILD_SCRIPT = `
  const { openSqliteDatabase } = await import(process.env.OPENER_MODULE);
  process.stdin.once('data', () => {
    const db = openSqliteDatabase(process.env.DB_FILE);
    process.stdout.write(String(db.pragma('journal_mode', { simple: true })));
    db.close();
    process.stdin.destroy();
  });
  process.stdout.write('ready\\n');
`;

interface Opener {
  ready: Promise<void>;
  /** The journal mode the child saw, or its stderr when it failed. */
  result: Promise<string>;
  go(): void;
}

function startOpener(filename: string): Opener {
  const env = { ...process.env, OPENER_MODULE: new URL('./sqlite-database.ts', import.meta.url).href, DB_FILE: filename };
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', CHILD_SCRIPT], { env });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const ready = new Promise<void>((resolve) => {
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (stdout.startsWith('ready\n')) resolve();
    });
  });
  const result = once(child, 'close').then(([code]) => (code === 0 ? stdout.replace('ready\n', '') : `exit ${String(code)}: ${stderr}`));
  return { ready: Promise.race([ready, result.then(() => undefined)]), result, go: () => child.stdin.write('go\n') };
}

/** Starts `count` children on `filename`, lets them open it at once and returns what each printed. */
async function openTogether(count: number, filename: string, whileAllAttempt: () => Promise<void> = async () => {}): Promise<string[]> {
  const openers = Array.from({ length: count }, () => startOpener(filename));
  await Promise.all(openers.map((o) => o.ready));
  for (const opener of openers) opener.go();
  await whileAllAttempt();
  return Promise.all(openers.map((o) => o.result));
}

describe('openSqliteDatabase with processes starting together on a fresh file', () => {
  // The incident as it happened; without the fix it fails only some runs (the race is short).
  it('puts every process in WAL mode when they all open it at once', { timeout: TIMEOUT_MS }, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      expect(await openTogether(PROCESSES, join(dir, `herd-${round}.sqlite`))).toStrictEqual(Array(PROCESSES).fill('wal'));
    }
  });

  // The switch upgrades a read to a write lock, and SQLite fails that upgrade at once, busy
  // timeout or not, while another connection holds a write lock: here the test process holds
  // one while the children open, as a process in the middle of its own switch does for a moment.
  // Without the fix every child fails.
  it('puts every process in WAL mode while another process holds a write lock on the file', { timeout: TIMEOUT_MS }, async () => {
    for (let round = 0; round < ROUNDS; round += 1) {
      const filename = join(dir, `writer-${round}.sqlite`);
      const writer = new Database(filename);
      try {
        writer.exec('BEGIN IMMEDIATE');
        const outputs = await openTogether(PROCESSES, filename, async () => {
          await new Promise((resolve) => setTimeout(resolve, 500));
          writer.exec('COMMIT');
        });
        expect(outputs).toStrictEqual(Array(PROCESSES).fill('wal'));
      } finally {
        writer.close();
      }
    }
  });
});
