// `npm run test:engines`: starts the engines (scripts/engines.mjs; installs them the first time) and
// runs the tests that need them, with their variables set; stops the engines it started.
//   npm run test:engines [-- vitest options]
import { spawn } from 'node:child_process';
import { down, engineStatus, REPO_ROOT, selectEngines, up } from './engines.mjs';

/** The tests that skip, saying why, without the engines' variables. */
const ENGINE_TESTS = [
  'libs/store/src/mongo-chat-store.test.ts',
  'libs/store/src/mongo-knowledge-store.test.ts',
  'libs/rag/src/retrieval/milvus-vector-store.test.ts',
  'apps/worker/test/setup.test.ts',
  'apps/worker/test/engines-answer.test.ts',
  'apps/worker/test/engines-models.test.ts',
];

const engines = await selectEngines();
const upBefore = new Set((await Promise.all(engines.map(engineStatus))).filter((status) => status.up).map((status) => status.name));
let code = 1;
try {
  const env = await up();
  for (const [name, value] of Object.entries(env)) process.stderr.write(`[test:engines] ${name}=${value}\n`);
  const vitest = spawn('npx', ['vitest', 'run', ...ENGINE_TESTS, ...process.argv.slice(2)], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: 'inherit',
  });
  code = await new Promise((resolve, reject) => {
    vitest.once('error', reject);
    vitest.once('exit', (exitCode, signal) => resolve(exitCode ?? (signal ? 1 : 0)));
  });
} catch (error) {
  process.stderr.write(`${error.message}\n`);
} finally {
  const started = engines.map((engine) => engine.name).filter((name) => !upBefore.has(name));
  // down() with no names stops every engine: only call it for the ones started here.
  if (started.length > 0) await down(started);
}
process.exitCode = code;
