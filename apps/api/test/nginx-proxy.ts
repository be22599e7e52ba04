import type { ChildProcess } from 'node:child_process';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, REPO_ROOT } from '@ragstream/testing';

/** The one proxy config that compose mounts into the nginx image, rendered here the same way. */
export const PROXY_TEMPLATE = join(REPO_ROOT, 'deploy/nginx/ragstream.conf.template');

export type NginxBinary = { path: string } | { reason: string };

/** Runs scripts/ensure-nginx.mjs (installs Debian's nginx when missing and possible). */
export function ensureNginxBinary(): NginxBinary {
  const result = spawnSync(process.execPath, [join(REPO_ROOT, 'scripts/ensure-nginx.mjs')], { encoding: 'utf8' });
  if (result.status === 0) return { path: result.stdout.trim() };
  return { reason: result.stderr.trim() || `ensure-nginx exited with ${result.status}` };
}

/**
 * envsubst as the nginx image's template step runs it: `${NAME}` is replaced for the
 * variables given, and everything else (nginx's own `$variables`) stays as written.
 */
export function renderTemplate(template: string, vars: Record<string, string>): string {
  return template.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => vars[name] ?? whole);
}

/** One access-log line of the test proxy: which node served which request. */
export interface ProxiedRequest {
  uri: string;
  status: number;
  upstream: string;
}

/**
 * nginx from the project's template, in a private prefix directory (config, pid file,
 * logs, temp dirs) on a free loopback port, run in the foreground as this test's child.
 */
export class NginxProxy {
  private output = '';

  private constructor(
    private readonly child: ChildProcess,
    readonly dir: string,
    readonly url: string,
  ) {
    child.stdout?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
    child.stderr?.on('data', (chunk: Buffer) => {
      this.output += chunk.toString();
    });
  }

  static async start(binary: string, upstreams: string[]): Promise<NginxProxy> {
    const dir = mkdtempSync(join(tmpdir(), 'ragstream-nginx-'));
    for (const sub of ['conf', 'logs', 'tmp']) mkdirSync(join(dir, sub));
    const port = await freePort();
    const site = renderTemplate(readFileSync(PROXY_TEMPLATE, 'utf8'), {
      PROXY_LISTEN: `127.0.0.1:${port}`,
      API_UPSTREAMS: upstreams.map((address) => `server ${address};`).join(' '),
    });
    writeFileSync(join(dir, 'conf/ragstream.conf'), site);
    writeFileSync(join(dir, 'conf/nginx.conf'), mainConfig(dir));
    const child = spawn(binary, ['-p', dir, '-e', join(dir, 'logs/error.log'), '-c', join(dir, 'conf/nginx.conf'), '-g', 'daemon off;'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const proxy = new NginxProxy(child, dir, `http://127.0.0.1:${port}`);
    await proxy.waitUntilListening(port);
    return proxy;
  }

  private async waitUntilListening(port: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (this.child.exitCode !== null || this.child.signalCode !== null) {
        throw new Error(`nginx exited (${this.child.exitCode ?? this.child.signalCode}) before listening\n${this.logs()}`);
      }
      if (await accepts(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`nginx is not listening on ${port} after ${timeoutMs} ms\n${this.logs()}`);
  }

  /** Every proxied request so far, oldest first (nginx logs a socket when it closes). */
  requests(): ProxiedRequest[] {
    return readIfExists(join(this.dir, 'logs/access.log'))
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => {
        const [uri = '', status = '0', upstream = ''] = line.split(' ');
        return { uri, status: Number(status), upstream };
      });
  }

  logs(): string {
    return [
      `----- nginx output -----\n${this.output}`,
      `----- nginx error.log -----\n${readIfExists(join(this.dir, 'logs/error.log'))}`,
      `----- nginx access.log -----\n${readIfExists(join(this.dir, 'logs/access.log'))}`,
    ].join('\n');
  }

  /** SIGTERM (nginx's fast shutdown ends its workers too), SIGKILL if it hangs; then the prefix goes. */
  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise((resolve) => this.child.once('exit', resolve));
      this.child.kill('SIGTERM');
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The main context the nginx image supplies around conf.d; here every path is inside `dir`. */
function mainConfig(dir: string): string {
  // As root, nginx's workers would switch to `nobody`, who cannot enter a 0700 temp dir.
  const user = typeof process.getuid === 'function' && process.getuid() === 0 ? 'user root;\n' : '';
  return `${user}worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'logs/error.log')} info;
events { worker_connections 512; }
http {
  log_format upstream '$request_uri $status $upstream_addr';
  access_log ${join(dir, 'logs/access.log')} upstream;
  client_body_temp_path ${join(dir, 'tmp/body')};
  proxy_temp_path ${join(dir, 'tmp/proxy')};
  fastcgi_temp_path ${join(dir, 'tmp/fastcgi')};
  uwsgi_temp_path ${join(dir, 'tmp/uwsgi')};
  scgi_temp_path ${join(dir, 'tmp/scgi')};
  include ${join(dir, 'conf/ragstream.conf')};
}
`;
}

function readIfExists(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return '';
    throw error;
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
