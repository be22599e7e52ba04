import { spawn, spawnSync } from 'node:child_process';
import { syntheticAnswer } from '@ragstream/rag';
import { REPO_ROOT, TestCluster } from '@ragstream/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const TOKENS = 40;
const ANSWER = syntheticAnswer(TOKENS).trimEnd();

/** Python's `websockets` for the seed's client: installed with pip when missing, else that test is skipped. */
function pythonWebsockets(): { ok: true } | { ok: false; reason: string } {
  const probe = (): boolean => spawnSync('python3', ['-c', 'import websockets'], { stdio: 'ignore' }).status === 0;
  if (probe()) return { ok: true };
  const pip = spawnSync('python3', ['-m', 'pip', 'install', '-q', 'websockets'], { encoding: 'utf8' });
  if (probe()) return { ok: true };
  return { ok: false, reason: `python3 with websockets is unavailable (pip: ${pip.error?.message ?? pip.stderr.trim()})` };
}

function hasCommand(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

const python = pythonWebsockets();
if (!python.ok) console.warn(`examples.test.ts: the Python example is skipped: ${python.reason}`);
const curl = hasCommand('curl');
if (!curl) console.warn('examples.test.ts: the SSE example is skipped: curl is not installed');

/** Runs one example to its end and returns what it printed; rejects after `timeoutMs`. */
function runExample(command: string, args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(command, args, { cwd: REPO_ROOT, env: { ...process.env, PYTHONIOENCODING: 'utf-8' } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => {
    stdout += chunk.toString();
  });
  child.stderr.on('data', (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${command} ${args.join(' ')} did not finish in ${timeoutMs} ms\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.once('error', reject);
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('examples/ against a running stack (1 API node, 1 worker)', () => {
  let cluster: TestCluster;

  beforeAll(async () => {
    cluster = await TestCluster.start({
      apis: 1,
      workers: 1,
      env: { LLM_PROVIDER: 'synthetic', SYNTHETIC_TOKENS: String(TOKENS), SYNTHETIC_TOKENS_PER_SECOND: '100' },
    });
  });
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail') console.error(cluster.logs());
  });
  afterAll(async () => {
    await cluster?.stop();
  });

  it('node examples/websocket-client.mjs prints the whole answer', async () => {
    const run = await runExample(process.execPath, ['examples/websocket-client.mjs', cluster.api()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Answer (complete): ${ANSWER}`);
  });

  it('node examples/socketio-client.mjs prints the whole answer', async () => {
    const run = await runExample(process.execPath, ['examples/socketio-client.mjs', cluster.api()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain(`Answer (complete): ${ANSWER}`);
  });

  it.skipIf(!python.ok)("python3 examples/websocket_chat_example.py (the seed's client) prints the whole answer", async () => {
    const run = await runExample('python3', ['examples/websocket_chat_example.py', cluster.api()]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("Received: {'mt': 'message_upload_confirm'");
    expect(run.stdout).toContain(`Answer (complete): ${ANSWER}`);
  });

  it.skipIf(!curl)('sh examples/sse-curl.sh prints every event up to the complete answer', async () => {
    const run = await runExample('sh', ['examples/sse-curl.sh', cluster.api()]);
    expect(run.code, run.stderr).toBe(0);
    const frames = run.stdout
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { mt: string; delta?: string; text?: string; status?: string });
    const done = frames.at(-1);
    expect(done).toMatchObject({ mt: 'chat_message_bot_complete', status: 'complete' });
    expect(done?.text?.trimEnd()).toBe(ANSWER);
    expect(frames.map((f) => f.delta ?? '').join('')).toBe(done?.text);
  });
});
