import type { ChildProcess } from 'node:child_process';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));

/**
 * Not inherited from the test run's environment: `npm run test:engines` and CI export them for the
 * engine suites, while the processes of other tests keep the embedded stores and offline models.
 * A test that wants MongoDB, Milvus or a model server passes them in `env`.
 */
export const ENGINE_VARIABLES = [
  'MONGODB_URL',
  'MILVUS_ADDRESS',
  'MILVUS_COLLECTION',
  'LLM_PROVIDER',
  'OPENAI_BASE_URL',
  'OPENAI_API_KEY',
  'LLM_MODEL',
  'EMBEDDINGS_PROVIDER',
  'EMBEDDINGS_BASE_URL',
  'EMBEDDING_MODEL',
  'VECTOR_DIMENSIONS',
];

function inheritedEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const name of ENGINE_VARIABLES) delete env[name];
  return env;
}

/** A program other than the apps' entry points (e.g. redis-server), with its arguments. */
export interface ProgramCommand {
  file: string;
  args: readonly string[];
}

/**
 * A real child process running one of the apps' TypeScript entry points through tsx (or
 * another program), with its output kept so that a failing test can print it.
 */
export class ManagedProcess {
  private readonly child: ChildProcess;
  private output = '';
  private readonly exited: Promise<number | null>;
  private waiters: { pattern: RegExp; resolve: () => void }[] = [];

  constructor(
    readonly name: string,
    entry: string | ProgramCommand,
    env: Record<string, string>,
  ) {
    const { file, args } = typeof entry === 'string' ? { file: process.execPath, args: ['--import', 'tsx', entry] } : entry;
    this.child = spawn(file, args, {
      cwd: REPO_ROOT,
      env: { ...inheritedEnv(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const onData = (chunk: Buffer): void => {
      this.output += chunk.toString();
      this.waiters = this.waiters.filter((waiter) => {
        if (!waiter.pattern.test(this.output)) return true;
        waiter.resolve();
        return false;
      });
    };
    this.child.stdout?.on('data', onData);
    this.child.stderr?.on('data', onData);
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  get logs(): string {
    return this.output;
  }

  /** The exit code once the process has exited normally; null while it runs or after a signal. */
  get exitCode(): number | null {
    return this.child.exitCode;
  }

  /** The signal that ended the process, if one did. */
  get signalCode(): NodeJS.Signals | null {
    return this.child.signalCode;
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal (e.g. SIGSTOP / SIGCONT to stall and resume it); false if it has exited. */
  signal(signal: NodeJS.Signals): boolean {
    if (!this.running) return false;
    return this.child.kill(signal);
  }

  /** Resolves when the output matches (the process logs its own readiness), rejects if it exits first. */
  waitForOutput(pattern: RegExp, timeoutMs = 60_000): Promise<void> {
    if (pattern.test(this.output)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no ${pattern} within ${timeoutMs} ms\n${this.output}`)), timeoutMs);
      this.waiters.push({
        pattern,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
      void this.exited.then((code) => {
        clearTimeout(timer);
        reject(new Error(`${this.name} exited with ${code} before ${pattern}\n${this.output}`));
      });
    });
  }

  /** SIGKILL: no shutdown path runs, as in a crash. */
  async kill(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  /** SIGTERM, then SIGKILL if the process has not exited in time. */
  async stop(graceMs = 5_000): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    // A stopped (SIGSTOP) process acts on SIGTERM only once it runs again.
    this.child.kill('SIGCONT');
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  waitForExit(): Promise<number | null> {
    return this.exited;
  }
}
