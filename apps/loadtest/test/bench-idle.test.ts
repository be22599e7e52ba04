import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { REPO_ROOT } from '@ragstream/testing';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

describe('npm run bench:idle (small)', () => {
  it('holds idle connections on a RagStream node and on a bare socket.io server, and reports memory per connection', {
    timeout: 120_000,
  }, async () => {
    const json = join(mkdtempSync(join(tmpdir(), 'bench-idle-')), 'idle.json');
    const args = ['--import', 'tsx', 'apps/loadtest/src/bench-idle.ts', '--connections', '20', '--transports', 'ws,sse', '--json', json];
    const { stdout, stderr } = await run(process.execPath, args, { cwd: REPO_ROOT }).catch((err: { stdout?: string; stderr?: string }) => {
      console.error(err.stdout, err.stderr);
      throw err;
    });
    expect(stderr).toContain('RagStream over sse, 20 connections');
    expect(stdout).toContain('KB per connection');
    const { rows } = JSON.parse(readFileSync(json, 'utf8')) as {
      rows: { server: string; transport: string; connections: number; rssBeforeMb: number; rssAfterMb: number; kbPerConnection: number }[];
    };
    expect(rows.map((r) => [r.server, r.transport, r.connections])).toEqual([
      ['bare socket.io', 'socketio', 20],
      ['ragstream', 'ws', 20],
      ['ragstream', 'sse', 20],
    ]);
    for (const r of rows) {
      expect(r.rssBeforeMb).toBeGreaterThan(20);
      expect(Number.isFinite(r.kbPerConnection)).toBe(true);
    }
  });
});
