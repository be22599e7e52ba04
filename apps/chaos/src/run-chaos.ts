import { seededRandom } from '@ragstream/testing';
import { ChaosEnv } from './chaos-env.ts';
import type { ChaosSizes, RecoveryKind, Scenario, ScenarioContext } from './scenario.ts';
import { ScenarioSkipped } from './scenario.ts';
import type { Summary } from './stats.ts';
import type { AnswerCounts } from './verify.ts';

export interface ScenarioResult extends AnswerCounts {
  scenario: string;
  title: string;
  /** pass: every check held; fail: one did not (or the scenario broke); skip: it could not run against this code. */
  outcome: 'pass' | 'fail' | 'skip';
  recoveryMs: number | null;
  recoveryKind: RecoveryKind | null;
  stopLatencyMs: (Summary & { overBound: number; notStopped: number }) | null;
  problems: string[];
  notes: string[];
  durationMs: number;
}

export interface ChaosRun {
  ok: boolean;
  seed: number;
  sizes: ChaosSizes;
  startedAt: string;
  results: ScenarioResult[];
}

export interface RunHooks {
  log: (line: string) => void;
  /** Called with a failing scenario's process logs (API nodes, workers, Redis). */
  onFailureLogs?: (scenario: string, logs: string, problems: string[]) => void;
  /** Called with each env as it starts, so that an interrupt can close it. */
  onEnv?: (env: ChaosEnv | undefined) => void;
}

const MAX_PROBLEMS = 40;

/** Environments a run keeps for the next scenario with the same envKey (shared mode only). */
class EnvPool {
  private kept: { key: string; env: ChaosEnv } | undefined;

  constructor(readonly share: boolean) {}

  /** An environment for the scenario: the kept one if it fits, else a new one (closing the kept one). */
  async take(scenario: Scenario, sizes: ChaosSizes): Promise<ChaosEnv> {
    if (this.kept && this.kept.key === scenario.envKey) {
      const { env } = this.kept;
      this.kept = undefined;
      return env;
    }
    await this.closeKept();
    return ChaosEnv.start(scenario.env(sizes));
  }

  /** After the scenario: keep a healthy env for the next one when sharing, else close it. */
  async give(scenario: Scenario, env: ChaosEnv, healthy: boolean): Promise<void> {
    if (this.share && healthy) this.kept = { key: scenario.envKey, env };
    else await env.close();
  }

  async closeKept(): Promise<void> {
    const kept = this.kept;
    this.kept = undefined;
    await kept?.env.close();
  }
}

export async function runScenario(
  scenario: Scenario,
  sizes: ChaosSizes,
  hooks: RunHooks,
  pool = new EnvPool(false),
): Promise<ScenarioResult> {
  const started = performance.now();
  const result: ScenarioResult = {
    scenario: scenario.name,
    title: scenario.title,
    outcome: 'fail',
    answers: 0,
    completed: 0,
    stopped: 0,
    failed: 0,
    lostFrames: 0,
    duplicatedFrames: 0,
    storedMismatch: 0,
    unfinished: 0,
    recoveryMs: null,
    recoveryKind: null,
    stopLatencyMs: null,
    problems: [],
    notes: [],
    durationMs: 0,
  };
  const ctx: ScenarioContext = {
    sizes,
    random: seededRandom(sizes.seed ^ hash(scenario.name)),
    log: (line) => hooks.log(`${scenario.name}: ${line}`),
  };
  let env: ChaosEnv | undefined;
  try {
    ctx.log('starting Redis, API nodes and workers');
    env = await pool.take(scenario, sizes);
    hooks.onEnv?.(env);
    const run = await scenario.run(env, ctx);
    const v = run.verification;
    Object.assign(result, {
      answers: v.answers,
      completed: v.completed,
      stopped: v.stopped,
      failed: v.failed,
      lostFrames: v.lostFrames,
      duplicatedFrames: v.duplicatedFrames,
      storedMismatch: v.storedMismatch,
      unfinished: v.unfinished,
    });
    if (run.recovery) {
      result.recoveryMs = run.recovery.ms;
      result.recoveryKind = run.recovery.kind;
    }
    if (run.stops)
      result.stopLatencyMs = { ...run.stops.latency, overBound: run.stops.overBound.length, notStopped: run.stops.notStopped.length };
    const problems = [...new Set([...(run.problems ?? []), ...v.problems])];
    result.problems =
      problems.length > MAX_PROBLEMS ? [...problems.slice(0, MAX_PROBLEMS), `… and ${problems.length - MAX_PROBLEMS} more`] : problems;
    result.notes = run.notes ?? [];
    result.outcome = problems.length === 0 ? 'pass' : 'fail';
  } catch (err) {
    if (err instanceof ScenarioSkipped) {
      result.outcome = 'skip';
      result.notes.push(err.message);
    } else {
      result.outcome = 'fail';
      result.problems.push(`scenario broke: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  } finally {
    if (env && result.outcome === 'fail') hooks.onFailureLogs?.(scenario.name, env.logs(), result.problems);
    ctx.log(`${result.outcome}`);
    // Reusable after failed checks too, when the scenario did not break and left nothing running.
    const reusable =
      result.outcome === 'pass' ||
      (result.outcome === 'fail' && result.unfinished === 0 && !result.problems.some((p) => p.startsWith('scenario broke')));
    if (env) await pool.give(scenario, env, reusable).catch((err: unknown) => hooks.log(`${scenario.name}: teardown: ${String(err)}`));
    hooks.onEnv?.(undefined);
    result.durationMs = Math.round(performance.now() - started);
  }
  return result;
}

export interface RunOptions {
  /**
   * Run consecutive scenarios with the same envKey on one environment (faster; for the
   * vitest fast suite). Off: every scenario gets fresh processes and a fresh Redis.
   */
  shareEnvs?: boolean;
}

export async function runChaos(
  scenarios: readonly Scenario[],
  sizes: ChaosSizes,
  hooks: RunHooks,
  options: RunOptions = {},
): Promise<ChaosRun> {
  const startedAt = new Date().toISOString();
  const results: ScenarioResult[] = [];
  const pool = new EnvPool(options.shareEnvs === true);
  try {
    for (const scenario of scenarios) results.push(await runScenario(scenario, sizes, hooks, pool));
  } finally {
    await pool.closeKept();
  }
  return { ok: results.every((r) => r.outcome !== 'fail'), seed: sizes.seed, sizes, startedAt, results };
}

function hash(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i += 1) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}
