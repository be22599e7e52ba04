import type { Answer } from './answers.ts';
import { viewOf } from './answers.ts';
import type { ChaosEnv, EnvOptions } from './chaos-env.ts';
import type { StopReport } from './stop-watch.ts';
import type { Verification } from './verify.ts';

export interface ChaosSizes {
  /** Concurrent answers per scenario. */
  answers: number;
  /** Synthetic tokens per answer, and their rate. */
  tokens: number;
  tokensPerSecond: number;
  /** FRAME_FLUSH_MS given to the workers; part of the stop bound. */
  flushMs: number;
  /** Added to flush window + stop round trip for the stop bound (scheduling on a shared machine). */
  stopSlackMs: number;
  /** Burst scenario: chats, and messages each of the chat's two clients sends at once. */
  burstChats: number;
  burstPerClient: number;
  /** Seed of the random fault moments. */
  seed: number;
}

export const DEFAULT_SIZES: ChaosSizes = {
  answers: 24,
  tokens: 150,
  tokensPerSecond: 40,
  flushMs: 15,
  stopSlackMs: 50,
  burstChats: 6,
  burstPerClient: 3,
  seed: Date.now() % 1_000_000,
};

export interface ScenarioContext {
  sizes: ChaosSizes;
  random: () => number;
  log: (line: string) => void;
}

export type RecoveryKind = 'terminal' | 'first-frame';

export interface ScenarioRun {
  verification: Verification;
  recovery?: { ms: number | null; kind: RecoveryKind };
  stops?: StopReport;
  /** Checks of this scenario beyond the common ones. */
  problems?: string[];
  notes?: string[];
}

export interface Scenario {
  name: string;
  title: string;
  /** Part of the fast set run inside `npm test`. */
  fast: boolean;
  /**
   * Scenarios with the same key ask for the same processes and environment, so that a
   * run that shares environments (the vitest fast suite) may run them on one. The CLI
   * starts a fresh environment for every scenario.
   */
  envKey: string;
  env(sizes: ChaosSizes): EnvOptions;
  run(env: ChaosEnv, ctx: ScenarioContext): Promise<ScenarioRun>;
}

/** A scenario that cannot run against this code (e.g. a test hook the worker lacks). */
export class ScenarioSkipped extends Error {
  override readonly name = 'ScenarioSkipped';
}

export function syntheticEnv(sizes: ChaosSizes, extra: Record<string, string> = {}): Record<string, string> {
  return {
    LLM_PROVIDER: 'synthetic',
    SYNTHETIC_TOKENS: String(sizes.tokens),
    SYNTHETIC_TOKENS_PER_SECOND: String(sizes.tokensPerSecond),
    FRAME_FLUSH_MS: String(sizes.flushMs),
    WORKER_CONCURRENCY: '64',
    LOG_LEVEL: 'info',
    ...extra,
  };
}

/** Fault → every affected answer's terminal frame at its client (the slowest); null if one never ended. */
export function recoveryToTerminal(answers: Answer[], faultAt: number): number | null {
  let worst = 0;
  for (const answer of answers) {
    const at = viewOf(answer).terminalAt;
    if (at === undefined) return null;
    worst = Math.max(worst, at - faultAt);
  }
  return Math.round(worst);
}

/** Fault → the first frame after it at each affected answer's client (the slowest), over answers not ended before the fault. */
export function recoveryToFirstFrame(answers: Answer[], faultAt: number): number | null {
  let worst = 0;
  for (const answer of answers) {
    const view = viewOf(answer);
    if (view.terminalAt !== undefined && view.terminalAt <= faultAt) continue;
    const at = view.firstArrivalAfter(faultAt);
    if (at === undefined) return null;
    worst = Math.max(worst, at - faultAt);
  }
  return Math.round(worst);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A random integer in [min, max]. */
export function between(random: () => number, min: number, max: number): number {
  return Math.floor(min + random() * (max - min + 1));
}
