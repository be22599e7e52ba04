import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { failureLogExcerpt } from '../src/failure-logs.ts';
import { formatReport } from '../src/report.ts';
import type { ChaosRun, ScenarioResult } from '../src/run-chaos.ts';
import { runChaos } from '../src/run-chaos.ts';
import type { ChaosSizes } from '../src/scenario.ts';
import { DEFAULT_SIZES } from '../src/scenario.ts';
import { SCENARIOS } from '../src/scenarios/index.ts';

/**
 * The fast chaos scenarios (pub/sub kill, burst sends, 401, 500 twice) through the same
 * harness as `npm run chaos`, with small sizes and one environment per kind of process
 * set. Real processes and a redis-server of its own; every one is killed at the end.
 *
 * Each scenario is its own test, so that the report says which held. Several are
 * expected to fail until the answer lifecycle has one owner (see ARCHITECTURE.md):
 * the harness must catch those faults, not hide them.
 */
const SIZES: ChaosSizes = {
  ...DEFAULT_SIZES,
  answers: 6,
  // Long enough (2 s) that stops land mid-answer on a loaded machine.
  tokens: 120,
  tokensPerSecond: 60,
  burstChats: 3,
  burstPerClient: 2,
  // Inside npm test, beside other suites: a stop the state did not catch would take the rest of
  // the 2 s answer, so 500 ms still tells the two apart; `npm run chaos` reports the tight bound.
  stopSlackMs: 500,
  seed: Number(process.env.CHAOS_SEED ?? 4242),
};

const FAST = SCENARIOS.filter((s) => s.fast);

describe('chaos (fast scenarios)', () => {
  let run: ChaosRun;
  const failureLogs = new Map<string, string>();

  beforeAll(async () => {
    run = await runChaos(
      FAST,
      SIZES,
      {
        log: () => undefined,
        onFailureLogs: (scenario, logs, problems) => failureLogs.set(scenario, failureLogExcerpt(logs, problems)),
      },
      { shareEnvs: true },
    );
    console.info(formatReport(run));
  }, 240_000);

  afterAll(() => {
    for (const [scenario, logs] of failureLogs) console.error(`----- logs of failing scenario ${scenario} -----\n${logs}`);
  });

  function result(name: string): ScenarioResult {
    const found = run.results.find((r) => r.scenario === name);
    if (!found) throw new Error(`scenario ${name} did not run`);
    return found;
  }

  for (const scenario of FAST) {
    it(`${scenario.name}: ${scenario.title}`, () => {
      const r = result(scenario.name);
      expect(r.problems, r.problems.join('\n')).toEqual([]);
      expect(r.outcome).toBe('pass');
      expect(r.lostFrames + r.duplicatedFrames + r.storedMismatch + r.unfinished).toBe(0);
    });
  }
});
