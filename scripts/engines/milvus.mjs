// Milvus standalone as the vector store of the engine tests: PyPI's `milvus` package bundles the real
// server (Go and C++ binaries, embedded etcd, local storage; nothing is downloaded at run time).
// 2.3.5 is its newest Linux x86_64 build (2.3.8 and 2.3.9 ship macOS arm64 wheels only); the product
// pins the Node.js SDK 2.6.13, which these tests use against it.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCommand, run, spawnDetached } from '../engines.mjs';

export const MILVUS_PYPI_VERSION = '2.3.5';

const venvBin = (cacheDir, command) => join(cacheDir, 'venv', 'bin', command);

export default {
  name: 'milvus',
  defaultPort: 19530,
  readyTimeoutMs: 180_000,
  // The server does not stop on SIGTERM (milvus-server, its parent, does): it is killed after this.
  stopTimeoutMs: 5_000,

  env: (port) => ({ MILVUS_ADDRESS: `127.0.0.1:${port}` }),

  async install({ cacheDir, log }) {
    const stamp = join(cacheDir, 'venv', 'milvus.version');
    if (existsSync(venvBin(cacheDir, 'milvus-server')) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === MILVUS_PYPI_VERSION) {
      return;
    }
    const python = findCommand('python3');
    if (!python) throw new Error('milvus: Python 3 with pip and venv is needed to install the milvus package');
    log(`installing milvus ${MILVUS_PYPI_VERSION} from PyPI into ${join(cacheDir, 'venv')}`);
    await run(python, ['-m', 'venv', '--clear', join(cacheDir, 'venv')]);
    await run(venvBin(cacheDir, 'python'), [
      '-m',
      'pip',
      'install',
      '--quiet',
      '--disable-pip-version-check',
      `milvus==${MILVUS_PYPI_VERSION}`,
    ]);
    writeFileSync(stamp, `${MILVUS_PYPI_VERSION}\n`);
  },

  // milvus-server unpacks its binaries into the data directory once, then runs `milvus run standalone`;
  // its other ports (etcd, coordinators, metrics) start at Milvus's defaults and move up when taken.
  // --debug sends the server's own output to logPath (without it, it goes to files under dataDir).
  start({ cacheDir, dataDir, port, logPath }) {
    const args = ['--debug', '--data', dataDir, '--proxy-port', String(port)];
    return spawnDetached(venvBin(cacheDir, 'milvus-server'), args, { logPath });
  },

  /** Up when the proxy answers CheckHealth as healthy (its port opens before the coordinators are ready). */
  async ready({ port }) {
    const { MilvusClient } = await import('@zilliz/milvus2-sdk-node');
    const client = new MilvusClient({ address: `127.0.0.1:${port}`, timeout: 3_000 });
    try {
      await client.connectPromise;
      const health = await client.checkHealth();
      return health.isHealthy === true;
    } catch {
      return false;
    } finally {
      await client.closeConnection().catch(() => undefined);
    }
  },
};
