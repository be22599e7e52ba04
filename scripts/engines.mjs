// Installs, starts and stops the real servers the engine tests run against, on loopback ports.
//   npm run engines -- up|down|status [name ...]     (default: every engine under scripts/engines/)
// Each engine is a module in scripts/engines/<name>.mjs whose default export is
//   { name, defaultPort, env(port) -> {VAR: value}, install({ cacheDir, log }),
//     start({ cacheDir, dataDir, port, logPath }) -> { pid }, ready({ port }) -> boolean,
//     readyTimeoutMs?, stopTimeoutMs? }
// Installs are cached under .cache/engines/<name>/; a running engine's pid, port and log are
// .cache/engines/run/<name>.{pid,port,log}. `up` prints `export VAR=value` lines for the engines
// that are up (on stdout; progress goes to stderr), so `eval "$(npm run -s engines -- up)"` works.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE_DIR = join(REPO_ROOT, '.cache', 'engines');
const RUN_DIR = join(CACHE_DIR, 'run');
const MODULES_DIR = join(REPO_ROOT, 'scripts', 'engines');
const DEFAULT_READY_TIMEOUT_MS = 180_000;
const LOG_TAIL_LINES = 40;

const log = (message) => process.stderr.write(`[engines] ${message}\n`);

/** Every engine module, by name, in name order. */
export async function loadEngines() {
  const files = existsSync(MODULES_DIR) ? readdirSync(MODULES_DIR).filter((file) => file.endsWith('.mjs')) : [];
  const engines = new Map();
  for (const file of files.sort()) {
    const engine = (await import(pathToFileURL(join(MODULES_DIR, file)).href)).default;
    engines.set(engine.name, engine);
  }
  return engines;
}

/** The engines named (all when none is), failing on an unknown name. */
export async function selectEngines(names = []) {
  const engines = await loadEngines();
  if (names.length === 0) return [...engines.values()];
  return names.map((name) => {
    const engine = engines.get(name);
    if (!engine) throw new Error(`unknown engine "${name}" (known: ${[...engines.keys()].join(', ')})`);
    return engine;
  });
}

const paths = (name) => ({
  pid: join(RUN_DIR, `${name}.pid`),
  port: join(RUN_DIR, `${name}.port`),
  log: join(RUN_DIR, `${name}.log`),
  data: join(RUN_DIR, `${name}-data`),
});

function readNumber(file) {
  if (!existsSync(file)) return undefined;
  const value = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(value) && value > 0 ? value : undefined;
}

function alive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

function portFree(port) {
  return new Promise((resolvePort) => {
    const server = createServer();
    server.once('error', () => resolvePort(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolvePort(true)));
  });
}

function anyFreePort() {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolvePort(port));
    });
  });
}

/** The engine's default port when it is free, else any free loopback port. */
async function choosePort(engine) {
  if (engine.defaultPort && (await portFree(engine.defaultPort))) return engine.defaultPort;
  return anyFreePort();
}

function tail(file, lines = LOG_TAIL_LINES) {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
}

/** { name, up, pid, port, logPath } for one engine, from its run files. */
export async function engineStatus(engine) {
  const files = paths(engine.name);
  const pid = readNumber(files.pid);
  const port = readNumber(files.port);
  const running = pid !== undefined && (alive(pid) || groupAlive(pid));
  const up = running && port !== undefined && (await engine.ready({ port }).catch(() => false));
  return { name: engine.name, up, running, pid, port, logPath: files.log };
}

/** Installs (cached) and starts one engine unless it is up already; resolves to its status, throws with the log's tail. */
export async function startEngine(engine) {
  const files = paths(engine.name);
  const current = await engineStatus(engine);
  if (current.up) {
    log(`${engine.name} is up on port ${current.port} (pid ${current.pid})`);
    return current;
  }
  if (current.running) await stopEngine(engine);

  const cacheDir = join(CACHE_DIR, engine.name);
  mkdirSync(cacheDir, { recursive: true });
  mkdirSync(files.data, { recursive: true });
  const installStarted = Date.now();
  await engine.install({ cacheDir, log: (message) => log(`${engine.name}: ${message}`) });
  const installMs = Date.now() - installStarted;

  const port = await choosePort(engine);
  writeFileSync(files.log, '');
  const startStarted = Date.now();
  const child = await engine.start({ cacheDir, dataDir: files.data, port, logPath: files.log });
  writeFileSync(files.pid, `${child.pid}\n`);
  writeFileSync(files.port, `${port}\n`);
  child.unref?.();

  const timeoutMs = engine.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (!alive(child.pid)) break;
    if (await engine.ready({ port }).catch(() => false)) {
      const status = { name: engine.name, up: true, running: true, pid: child.pid, port, logPath: files.log };
      log(`${engine.name} up on 127.0.0.1:${port} (pid ${child.pid}; install ${installMs} ms, start ${Date.now() - startStarted} ms)`);
      return status;
    }
    if (Date.now() > deadline) break;
    await new Promise((wake) => setTimeout(wake, 250));
  }
  const why = alive(child.pid) ? `not ready after ${timeoutMs / 1000} s` : 'exited';
  await stopEngine(engine);
  throw new Error(`${engine.name} ${why}; its log is ${files.log}, ending with:\n${tail(files.log)}`);
}

/** Whether any process of the group `pgid` (an engine's leader and its children) is still there. */
function groupAlive(pgid) {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return error.code === 'EPERM';
  }
}

/**
 * Stops one engine: SIGTERM to its whole process group, SIGKILL to what is left of it after the
 * engine's `stopTimeoutMs` (default 20 s).
 * It waits for every process of the group, not just the leader: milvus-server exits at once while
 * the server it started may go on holding its ports.
 */
export async function stopEngine(engine) {
  const files = paths(engine.name);
  const pid = readNumber(files.pid);
  if (pid !== undefined && (groupAlive(pid) || alive(pid))) {
    const signal = (name) => {
      try {
        process.kill(-pid, name);
      } catch (error) {
        if (error.code !== 'ESRCH') throw error;
      }
    };
    signal('SIGTERM');
    const deadline = Date.now() + (engine.stopTimeoutMs ?? 20_000);
    while (groupAlive(pid) && Date.now() < deadline) await new Promise((wake) => setTimeout(wake, 100));
    if (groupAlive(pid)) signal('SIGKILL');
    // Bounded: a killed process whose parent has not reaped it yet still counts as in the group.
    const killDeadline = Date.now() + 5_000;
    while (groupAlive(pid) && Date.now() < killDeadline) await new Promise((wake) => setTimeout(wake, 100));
    log(`${engine.name} stopped (process group ${pid})`);
  }
  rmSync(files.pid, { force: true });
  rmSync(files.port, { force: true });
}

/** `export VAR=value` lines for the engines that are up. */
export function exportLines(statuses, engines) {
  const byName = new Map(engines.map((engine) => [engine.name, engine]));
  return statuses
    .filter((status) => status.up)
    .flatMap((status) => Object.entries(byName.get(status.name).env(status.port)).map(([key, value]) => `export ${key}=${value}`));
}

/** The variables pointing at the engines that are up, as an object. */
export async function engineEnv(names = []) {
  const engines = await selectEngines(names);
  const env = {};
  for (const engine of engines) {
    const status = await engineStatus(engine);
    if (status.up) Object.assign(env, engine.env(status.port));
  }
  return env;
}

/** Starts the engines (one after the other: installs compete for 2 cores), returning their variables. */
export async function up(names = []) {
  const engines = await selectEngines(names);
  mkdirSync(RUN_DIR, { recursive: true });
  const env = {};
  const failures = [];
  for (const engine of engines) {
    try {
      const status = await startEngine(engine);
      Object.assign(env, engine.env(status.port));
    } catch (error) {
      failures.push(`${engine.name}: ${error.message}`);
    }
  }
  if (failures.length > 0) throw new Error(`engines failed to start:\n${failures.join('\n')}`);
  return env;
}

export async function down(names = []) {
  for (const engine of await selectEngines(names)) await stopEngine(engine);
}

/**
 * Spawns `command` detached (its own process group, so `down` stops its children too) with stdout
 * and stderr appended to `logPath`: the helper engine modules use for `start`.
 */
export async function spawnDetached(command, args, { logPath, cwd, env }) {
  const fd = openSync(logPath, 'a');
  try {
    const child = spawn(command, args, { cwd, env: { ...process.env, ...env }, detached: true, stdio: ['ignore', fd, fd] });
    await new Promise((resolveSpawn, reject) => {
      child.once('spawn', resolveSpawn);
      child.once('error', reject);
    });
    return child;
  } finally {
    closeSync(fd);
  }
}

/** The path of `command` on PATH, else the first of `fallbacks` that exists, else undefined. */
export function findCommand(command, fallbacks = []) {
  const found = spawnSync('sh', ['-c', `command -v ${command}`], { encoding: 'utf8' });
  if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  return fallbacks.find((path) => existsSync(path));
}

/** Runs an install command at low priority (the machine is shared), its output on stderr; rejects on a non-zero exit. */
export function run(command, args, { cwd, env } = {}) {
  return new Promise((resolveRun, reject) => {
    const child = spawn('nice', ['-n', '10', command, ...args], { cwd, env: { ...process.env, ...env }, stdio: ['ignore', 2, 2] });
    child.once('error', reject);
    child.once('exit', (code, signal) =>
      code === 0 ? resolveRun() : reject(new Error(`${command} ${args.join(' ')} failed (${signal ?? `exit ${code}`})`)),
    );
  });
}

async function main(argv) {
  const [command, ...names] = argv;
  if (command === 'up') {
    try {
      await up(names);
    } finally {
      const engines = await selectEngines(names);
      const statuses = await Promise.all(engines.map(engineStatus));
      for (const line of exportLines(statuses, engines)) process.stdout.write(`${line}\n`);
    }
  } else if (command === 'down') {
    await down(names);
  } else if (command === 'status') {
    const engines = await selectEngines(names);
    const statuses = await Promise.all(engines.map(engineStatus));
    for (const status of statuses) {
      const state = status.up
        ? `up on 127.0.0.1:${status.port} (pid ${status.pid})`
        : status.running
          ? `starting or unhealthy (pid ${status.pid})`
          : 'down';
      process.stderr.write(`${status.name}: ${state}; log ${status.logPath}\n`);
    }
    for (const line of exportLines(statuses, engines)) process.stdout.write(`${line}\n`);
  } else {
    process.stderr.write('usage: npm run engines -- up|down|status [name ...]\n');
    process.exitCode = 2;
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).catch((error) => {
    process.stderr.write(`${error.message}\n`);
    process.exitCode = 1;
  });
}
