import { parseArgs } from 'node:util';
import type { ChaosSizes, Scenario } from './scenario.ts';
import { DEFAULT_SIZES } from './scenario.ts';
import { SCENARIOS, scenarioByName } from './scenarios/index.ts';

export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const CHAOS_USAGE = `Usage: npm run chaos -- [options]

Starts its own redis-server (AOF, free port), 2 API nodes and 2 workers per scenario,
injects one kind of fault while many answers stream, checks every answer and prints a table.
Exit code 1 when any scenario fails its checks.

Options:
  --scenarios a,b        run only these (default: all): ${SCENARIOS.map((s) => s.name).join(', ')}
  --fast                 only the fast scenarios (${SCENARIOS.filter((s) => s.fast)
    .map((s) => s.name)
    .join(', ')})
  --answers N            concurrent answers per scenario (default ${DEFAULT_SIZES.answers})
  --tokens N             synthetic tokens per answer (default ${DEFAULT_SIZES.tokens})
  --rate N               synthetic tokens per second (default ${DEFAULT_SIZES.tokensPerSecond})
  --flush-ms N           FRAME_FLUSH_MS of the workers (default ${DEFAULT_SIZES.flushMs})
  --stop-slack-ms N      slack added to the stop bound (default ${DEFAULT_SIZES.stopSlackMs})
  --burst-chats N        chats in the burst scenario (default ${DEFAULT_SIZES.burstChats})
  --burst-messages N     messages each of a chat's two clients sends at once (default ${DEFAULT_SIZES.burstPerClient})
  --seed N               seed of the random fault moments (default: time-based, printed)
  --json FILE            also write the results as JSON
  --quiet                no progress lines on stderr
  -h, --help
`;

export interface ChaosCli {
  help: boolean;
  scenarios: Scenario[];
  sizes: ChaosSizes;
  jsonFile: string | undefined;
  quiet: boolean;
}

function int(value: string | undefined, name: string, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  return n;
}

const OPTIONS = {
  scenarios: { type: 'string' },
  fast: { type: 'boolean' },
  answers: { type: 'string' },
  tokens: { type: 'string' },
  rate: { type: 'string' },
  'flush-ms': { type: 'string' },
  'stop-slack-ms': { type: 'string' },
  'burst-chats': { type: 'string' },
  'burst-messages': { type: 'string' },
  seed: { type: 'string' },
  json: { type: 'string' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function parseChaosArgs(argv: string[]): ChaosCli {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof OPTIONS; strict: true; allowPositionals: false }>>;
  try {
    parsed = parseArgs({
      args: argv,
      options: OPTIONS,
      strict: true,
      allowPositionals: false,
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const v = parsed.values;
  let scenarios: Scenario[] = [...SCENARIOS];
  if (v.scenarios !== undefined) {
    scenarios = v.scenarios
      .split(',')
      .map((name) => name.trim())
      .filter((name) => name !== '')
      .map((name) => {
        const scenario = scenarioByName(name);
        if (!scenario) throw new UsageError(`unknown scenario ${JSON.stringify(name)}; known: ${SCENARIOS.map((s) => s.name).join(', ')}`);
        return scenario;
      });
  }
  if (v.fast) scenarios = scenarios.filter((s) => s.fast);
  const sizes: ChaosSizes = {
    answers: int(v.answers, 'answers', DEFAULT_SIZES.answers, 1, 2000),
    tokens: int(v.tokens, 'tokens', DEFAULT_SIZES.tokens, 10, 100_000),
    tokensPerSecond: int(v.rate, 'rate', DEFAULT_SIZES.tokensPerSecond, 1, 100_000),
    flushMs: int(v['flush-ms'], 'flush-ms', DEFAULT_SIZES.flushMs, 0, 1000),
    stopSlackMs: int(v['stop-slack-ms'], 'stop-slack-ms', DEFAULT_SIZES.stopSlackMs, 0, 60_000),
    burstChats: int(v['burst-chats'], 'burst-chats', DEFAULT_SIZES.burstChats, 1, 500),
    burstPerClient: int(v['burst-messages'], 'burst-messages', DEFAULT_SIZES.burstPerClient, 1, 50),
    seed: int(v.seed, 'seed', DEFAULT_SIZES.seed, 0, 2 ** 31),
  };
  return { help: v.help === true, scenarios, sizes, jsonFile: v.json, quiet: v.quiet === true };
}
