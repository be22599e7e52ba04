// npm run bench:idle [-- --connections 1000 --transports ws,socketio,sse --json FILE]
//
// Memory per idle connection. For each transport, a fresh API node (no worker) gets one idle
// client connection to each of `--connections` chats (made through a second node); its resident memory (VmRSS)
// before and after the connections, divided by their number, is its cost per connection. The
// same for a bare socket.io server with the Redis adapter (src/bare-socketio-server.ts), in
// the same run, as the reference: the target is within 1.5x of it.

import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { HttpClient, LOAD_GENERATOR_LIMITS, REPO_ROOT, TEST_REDIS_URL, TestCluster, textTable } from '@ragstream/testing';
import type { ChatSocket, SocketEvents, Transport } from './chat-socket.ts';
import { openChatSocket, TRANSPORTS } from './chat-socket.ts';
import { mapLimit } from './deferred.ts';
import { round } from './percentiles.ts';
import { sampleProcess } from './process-stats.ts';

interface IdleRow {
  server: 'ragstream' | 'bare socket.io';
  transport: Transport;
  connections: number;
  rssBeforeMb: number;
  rssAfterMb: number;
  kbPerConnection: number;
}

/** Long enough for the server to settle after a burst of opens (its allocations, not GC timing). */
const SETTLE_MS = 2_000;
const OPEN_AT_ONCE = 32;

const IGNORE: SocketEvents = { frame: () => undefined, invalid: () => undefined, lost: () => undefined };

function rssOf(pid: number | undefined): number {
  const sample = pid === undefined ? undefined : sampleProcess(pid);
  if (!sample) throw new Error(`cannot read the memory of process ${pid ?? '?'}`);
  return sample.rssMb;
}

/** Opens one idle connection per chat and returns the server's memory before and after. */
async function measure(
  pid: number | undefined,
  baseUrl: string,
  transport: Transport,
  chatIds: readonly string[],
): Promise<[number, number]> {
  await sleep(SETTLE_MS);
  const before = rssOf(pid);
  const sockets: ChatSocket[] = await mapLimit(chatIds, OPEN_AT_ONCE, (chatId) => openChatSocket(transport, baseUrl, chatId, IGNORE));
  await sleep(SETTLE_MS);
  const after = rssOf(pid);
  await Promise.all(sockets.map((socket) => socket.close()));
  return [before, after];
}

function row(server: IdleRow['server'], transport: Transport, connections: number, [before, after]: [number, number]): IdleRow {
  return {
    server,
    transport,
    connections,
    rssBeforeMb: round(before, 1),
    rssAfterMb: round(after, 1),
    kbPerConnection: round(((after - before) * 1024) / connections, 1),
  };
}

async function ragstream(transport: Transport, connections: number): Promise<IdleRow> {
  // The chats are made through the second node, so that the measured node's heap holds nothing of them.
  const cluster = await TestCluster.start({ apis: 2, workers: 0, env: LOAD_GENERATOR_LIMITS });
  try {
    const baseUrl = cluster.api(0);
    const http = new HttpClient(cluster.api(1));
    const chatIds = await mapLimit(
      Array.from({ length: connections }, (_, i) => i),
      OPEN_AT_ONCE,
      (i) => http.createChat(`idle-${i}`),
    );
    return row('ragstream', transport, connections, await measure(cluster.apis[0]?.pid, baseUrl, transport, chatIds));
  } finally {
    await cluster.stop();
  }
}

async function bare(connections: number): Promise<IdleRow> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'apps/loadtest/src/bare-socketio-server.ts'], {
    cwd: REPO_ROOT,
    env: { ...process.env, REDIS_URL: TEST_REDIS_URL },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<string>((resolve, reject) => {
      child.stdout.once('data', (chunk: Buffer) => resolve(chunk.toString().trim()));
      child.once('exit', (code) => reject(new Error(`the bare socket.io server exited (${code ?? 'signal'}) before listening`)));
    });
    const chatIds = Array.from({ length: connections }, (_, i) => `bare-${i}`);
    return row('bare socket.io', 'socketio', connections, await measure(child.pid, `http://127.0.0.1:${port}`, 'socketio', chatIds));
  } finally {
    child.kill('SIGTERM');
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      connections: { type: 'string', default: '1000' },
      transports: { type: 'string', default: TRANSPORTS.join(',') },
      json: { type: 'string' },
    },
  });
  const connections = Number(values.connections);
  if (!Number.isInteger(connections) || connections < 10 || connections > 10_000) throw new Error('--connections: 10 to 10000');
  const transports = values.transports.split(',').map((t) => t.trim());
  const unknown = transports.filter((t) => !(TRANSPORTS as readonly string[]).includes(t));
  if (unknown.length > 0) throw new Error(`--transports: ${unknown.join(', ')} unknown (${TRANSPORTS.join(', ')})`);

  const rows: IdleRow[] = [];
  process.stderr.write(`bench:idle: bare socket.io, ${connections} connections\n`);
  const reference = await bare(connections);
  rows.push(reference);
  for (const transport of transports as Transport[]) {
    process.stderr.write(`bench:idle: RagStream over ${transport}, ${connections} connections\n`);
    rows.push(await ragstream(transport, connections));
  }
  console.log(
    textTable([
      ['server', 'transport', 'connections', 'RSS before MB', 'RSS after MB', 'KB per connection', 'vs bare socket.io'],
      ...rows.map((r) => [
        r.server,
        r.transport,
        String(r.connections),
        r.rssBeforeMb.toFixed(1),
        r.rssAfterMb.toFixed(1),
        r.kbPerConnection.toFixed(1),
        reference.kbPerConnection > 0 ? (r.kbPerConnection / reference.kbPerConnection).toFixed(2) : '-',
      ]),
    ]),
  );
  if (values.json) {
    writeFileSync(values.json, `${JSON.stringify({ kind: 'ragstream-bench-idle', rows }, null, 2)}\n`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? (err.stack ?? err.message) : err);
  process.exit(1);
});
