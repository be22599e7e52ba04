import { textTable } from '@ragstream/testing';
import type { ChaosRun, ScenarioResult } from './run-chaos.ts';

function recovery(result: ScenarioResult): string {
  if (result.recoveryKind === null) return '-';
  const suffix = result.recoveryKind === 'terminal' ? 'T' : 'F';
  return result.recoveryMs === null ? `never ${suffix}` : `${result.recoveryMs} ${suffix}`;
}

const HEADER = [
  'scenario',
  'answers',
  'completed',
  'stopped',
  'failed',
  'lost frames',
  'dup frames',
  'stored≠streamed',
  'unfinished',
  'recovery ms',
  'result',
];

export function resultRows(results: readonly ScenarioResult[]): string[][] {
  return results.map((r) => [
    r.scenario,
    String(r.answers),
    String(r.completed),
    String(r.stopped),
    String(r.failed),
    String(r.lostFrames),
    String(r.duplicatedFrames),
    String(r.storedMismatch),
    String(r.unfinished),
    recovery(r),
    r.outcome.toUpperCase(),
  ]);
}

/** The table, a legend, stop latencies, and each scenario's notes and problems. */
export function formatReport(run: ChaosRun, maxProblems = 12): string {
  const lines = [`chaos run ${run.startedAt}, seed ${run.seed} (repeat with --seed ${run.seed})`, ''];
  lines.push(textTable([HEADER, ...resultRows(run.results)]));
  lines.push('');
  lines.push(
    '  recovery: T = fault → every affected answer terminal at its client; F = fault → first frame after the fault at every affected client.',
  );
  for (const r of run.results) {
    if (!r.stopLatencyMs) continue;
    const s = r.stopLatencyMs;
    const f = (v: number): string => (Number.isFinite(v) ? `${v} ms` : '-');
    lines.push(
      `  ${r.scenario}: stop sent → terminal frame in the Redis log: p50 ${f(s.p50)}, p99 ${f(s.p99)}, max ${f(s.max)} over ${s.count} stops; ${s.overBound} over the bound (flush window + stop round trip + slack), ${s.notStopped} ended other than stopped`,
    );
  }
  for (const r of run.results) {
    if (r.notes.length === 0 && r.problems.length === 0) continue;
    lines.push('', `  ${r.scenario} (${r.title}): ${r.outcome.toUpperCase()} in ${(r.durationMs / 1000).toFixed(1)} s`);
    for (const note of r.notes) lines.push(`    note: ${note}`);
    for (const problem of r.problems.slice(0, maxProblems)) lines.push(`    problem: ${problem.split('\n')[0]}`);
    if (r.problems.length > maxProblems) lines.push(`    … ${r.problems.length - maxProblems} more problems (see --json)`);
  }
  lines.push(
    '',
    run.ok ? 'chaos: every scenario held' : `chaos: ${run.results.filter((r) => r.outcome === 'fail').length} scenario(s) failed`,
  );
  return lines.join('\n');
}
