// Makes sure an nginx binary is on PATH, for the proxy test: installs Debian's nginx
// with apt-get where that works without a prompt (as root), as ensure-redis.mjs does
// for redis-server. Exits 0 with the binary's path on stdout, or 1 with the reason on stderr.
import { spawnSync } from 'node:child_process';
import { realpathSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

function which(command) {
  const result = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  return result.status === 0 ? result.stdout.trim() : undefined;
}

/** The nginx binary, or a sentence saying why there is none. */
export function ensureNginx() {
  const found = which('nginx') ?? (spawnSync('test', ['-x', '/usr/sbin/nginx']).status === 0 ? '/usr/sbin/nginx' : undefined);
  if (found) return { path: found };
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  if (!root || !which('apt-get')) {
    return {
      reason:
        'nginx is not installed and apt-get cannot run here without a prompt (not root, or no apt-get). Install it: sudo apt-get install nginx',
    };
  }
  console.error('Installing nginx with apt-get...');
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  // Other installs may hold the dpkg lock on a shared machine: wait for it rather than fail.
  const lock = ['-o', 'DPkg::Lock::Timeout=300'];
  spawnSync('apt-get', [...lock, 'update', '-qq'], { stdio: ['ignore', 2, 2], env });
  const install = spawnSync('apt-get', [...lock, 'install', '-y', '-qq', '--no-install-recommends', 'nginx'], {
    stdio: ['ignore', 2, 2],
    env,
  });
  if (install.status !== 0) return { reason: `apt-get install nginx failed (exit ${install.status})` };
  const installed = which('nginx') ?? '/usr/sbin/nginx';
  return spawnSync('test', ['-x', installed]).status === 0
    ? { path: installed }
    : { reason: 'apt-get installed nginx but no binary was found' };
}

const invoked = process.argv[1] ? pathToFileURL(realpathSync(process.argv[1])).href : '';
if (import.meta.url === invoked) {
  const result = ensureNginx();
  if (result.path) {
    console.log(result.path);
  } else {
    console.error(result.reason);
    process.exit(1);
  }
}
