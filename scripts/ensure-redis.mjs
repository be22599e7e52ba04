// Makes sure a Redis answers at REDIS_URL: starts a local redis-server when none does,
// installing it through apt-get first where that works without a prompt (as root).
import { execFileSync, spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { connect } from 'node:net';
import { pathToFileURL } from 'node:url';

const DEFAULT_URL = 'redis://127.0.0.1:6379';

function ping(host, port) {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    const done = (ok) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1000, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function fail(message) {
  console.error(message);
  process.exit(1);
}

function installRedisServer(why) {
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !has('apt-get')) {
    fail(
      `${why}\n` +
        'Install Redis 7 (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis),\n' +
        'or run one with Docker: docker compose up -d redis. Then run npm start (or npm test) again.',
    );
  }
  console.error('Installing redis-server with apt-get...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env });
  const install = spawnSync('apt-get', ['install', '-y', '-qq', 'redis-server'], { stdio: 'inherit', env });
  if (install.status !== 0) fail('apt-get could not install redis-server; install Redis 7 yourself and try again.');
}

/**
 * `programs`: redis-server and redis-cli must be installed too, even when a Redis answers:
 * the tests start Redis Clusters of their own with them.
 */
export async function ensureRedis(url = process.env.REDIS_URL ?? DEFAULT_URL, { programs = false } = {}) {
  const { hostname, port: portText } = new URL(url);
  const port = Number(portText || 6379);
  const missingPrograms = !has('redis-server') || !has('redis-cli');
  if (await ping(hostname, port)) {
    if (programs && missingPrograms) installRedisServer(`A Redis answers at ${url}, but the tests need redis-server and redis-cli too.`);
    return;
  }
  const local = ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(hostname);
  if (!local) fail(`No Redis answers at ${url}. Start it, or unset REDIS_URL to use a local one.`);
  if (missingPrograms) installRedisServer(`No Redis answers at ${url} and redis-server is not installed.`);
  console.error(`Starting redis-server on port ${port} (no persistence)...`);
  execFileSync('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'yes']);
  for (let i = 0; i < 50; i += 1) {
    if (await ping(hostname, port)) return;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  fail(`redis-server was started but does not answer on port ${port}.`);
}

// Compare URLs of the real path: a checkout path with spaces or behind a symlink must still run.
const invoked = process.argv[1] ? pathToFileURL(realpathSync(process.argv[1])).href : '';
if (import.meta.url === invoked) await ensureRedis(undefined, { programs: process.argv.includes('--with-programs') });
