import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { freePort } from './free-port.ts';
import { ManagedProcess } from './managed-process.ts';

const run = promisify(execFile);

/**
 * A Redis program on PATH or where Debian puts it; scripts/ensure-redis.mjs installs redis-server
 * (and with it redis-cli) before `npm test` where none is.
 */
export function findRedisProgram(name: 'redis-server' | 'redis-cli'): string {
  for (const candidate of [name, `/usr/bin/${name}`, `/usr/local/bin/${name}`, `/usr/sbin/${name}`]) {
    if (spawnSync(candidate, ['--version'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error(`${name} is not installed (Debian/Ubuntu: apt-get install redis-server; or run node scripts/ensure-redis.mjs as root)`);
}

interface ClusterNode {
  port: number;
  dir: string;
  server: ManagedProcess;
}

/**
 * A Redis Cluster of its own for one test: masters only (no replicas), on free loopback ports,
 * without persistence, each with its config in a temp dir; `stop` kills them and removes the dirs.
 */
export class RedisClusterServers {
  private constructor(private readonly nodes: ClusterNode[]) {}

  static async start(masters = 3, timeoutMs = 30_000): Promise<RedisClusterServers> {
    const serverProgram = findRedisProgram('redis-server');
    const cli = findRedisProgram('redis-cli');
    const cluster = new RedisClusterServers([]);
    try {
      for (let i = 0; i < masters; i += 1) cluster.nodes.push(await startNode(serverProgram, timeoutMs));
      const addresses = cluster.nodes.map(({ port }) => `127.0.0.1:${port}`);
      const create = ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'];
      await run(cli, create, { timeout: timeoutMs }).catch((err: unknown) => {
        // redis-cli tells why on stdout.
        const { stdout = '' } = err as { stdout?: string };
        throw new Error(`redis-cli --cluster create failed: ${err instanceof Error ? err.message : String(err)}\n${stdout}`);
      });
      await cluster.untilReady(Date.now() + timeoutMs);
    } catch (err) {
      await cluster.stop();
      throw new Error(`${err instanceof Error ? err.message : String(err)}\n${cluster.logs()}`);
    }
    return cluster;
  }

  /** The seed list, as REDIS_CLUSTER_NODES takes it. */
  get seedNodes(): string {
    return this.nodes.map(({ port }) => `127.0.0.1:${port}`).join(',');
  }

  /** The same seeds as a REDIS_URL. */
  get url(): string {
    return `redis+cluster://${this.seedNodes}`;
  }

  /** Each master's own URL, for what asks one server (INFO). */
  get nodeUrls(): string[] {
    return this.nodes.map(({ port }) => `redis://127.0.0.1:${port}`);
  }

  logs(): string {
    return this.nodes.map(({ server }) => `----- ${server.name} (pid ${server.pid}) -----\n${server.logs}`).join('\n');
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map(({ server }) => server.kill()));
    for (const { dir } of this.nodes) rmSync(dir, { recursive: true, force: true });
  }

  /** Every node must see every slot served: a client may ask any of them first. */
  private async untilReady(deadline: number): Promise<void> {
    const clients = this.nodes.map(({ port }) => new Redis(port, '127.0.0.1', { maxRetriesPerRequest: 1 }));
    try {
      for (;;) {
        const infos = await Promise.all(clients.map((client) => client.cluster('INFO')));
        if (infos.every((info) => /cluster_state:ok/.test(info) && /cluster_slots_ok:16384/.test(info))) return;
        if (Date.now() > deadline) throw new Error(`the cluster did not come up:\n${infos.join('\n')}`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    } finally {
      for (const client of clients) client.disconnect();
    }
  }
}

async function startNode(program: string, timeoutMs: number): Promise<ClusterNode> {
  const [port, busPort] = [await freePort(), await freePort()];
  const dir = mkdtempSync(join(tmpdir(), 'ragstream-redis-cluster-'));
  // The bus port is chosen too: the default (port + 10000) may lie past 65535 or be taken.
  const args = ['--port', String(port), '--cluster-port', String(busPort), '--bind', '127.0.0.1', '--cluster-enabled', 'yes'];
  args.push('--cluster-config-file', join(dir, 'nodes.conf'), '--save', '', '--appendonly', 'no', '--dir', dir);
  const server = new ManagedProcess(`redis-${port}`, { file: program, args }, {});
  try {
    await server.waitForOutput(/Ready to accept connections/, timeoutMs);
  } catch (err) {
    await server.kill();
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return { port, dir, server };
}
