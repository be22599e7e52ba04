// Quick start on the embedded defaults: Redis (started if needed), the chat page (built if stale), one API node and one worker.
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureRedis } from './ensure-redis.mjs';
import { ensureWeb } from './ensure-web.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
await ensureRedis();
ensureWeb();

const children = [
  ['api', 'apps/api/src/main.ts'],
  ['worker', 'apps/worker/src/main.ts'],
].map(([name, entry]) => {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, stdio: 'inherit', env: process.env });
  child.once('exit', (code, signal) => {
    if (stopping) return;
    console.error(`${name} exited (${signal ?? code}); stopping the others.`);
    stop(code ?? 1);
  });
  return child;
});

let stopping = false;
function stop(code) {
  stopping = true;
  let left = children.length;
  for (const child of children) {
    if (child.exitCode !== null || child.signalCode !== null) {
      left -= 1;
      continue;
    }
    child.once('exit', () => {
      left -= 1;
      if (left === 0) process.exit(code);
    });
    child.kill('SIGTERM');
  }
  if (left === 0) process.exit(code);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));
