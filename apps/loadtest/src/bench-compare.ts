import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { textTable } from '@ragstream/testing';
import { numberFlag, stringFlag, UsageError } from './cli-flags.ts';
import { ms } from './format-ms.ts';

const USAGE = `Usage: npm run bench:compare -- --base REF [--rounds N] [--dir DIR] [-- bench flags]

Runs \`npm run bench\` on an earlier commit (REF, checked out once into DIR with its own
npm ci) and on this checkout, alternating, N rounds each (default 2), on the same
machine in one run; prints the medians side by side with their ratio (this / base).
Flags after -- go to both benches (e.g. --ttft-answers 100).

  --base REF     a commit, tag or branch of this repository
  --rounds N     rounds per side (default 2)
  --dir DIR      where REF is checked out (default: a directory under the system tmp)
`;

interface Summary {
  p50: number;
  p95: number;
}

/** The fields of a bench JSON line that are compared; present in every version of the bench. */
interface BenchLine {
  ttft: { overheadMs: Summary; confirmMs: Summary };
  stop: { latencyMs: Summary };
  throughput: { tokensDeliveredPerSecond: number };
  ok: boolean;
}

const METRICS: { label: string; pick: (b: BenchLine) => number; unit: 'ms' | 'tok/s' }[] = [
  { label: 'time to first token, overhead p50', pick: (b) => b.ttft.overheadMs.p50, unit: 'ms' },
  { label: 'time to first token, overhead p95', pick: (b) => b.ttft.overheadMs.p95, unit: 'ms' },
  { label: 'upload -> confirm p50', pick: (b) => b.ttft.confirmMs.p50, unit: 'ms' },
  { label: 'stop latency p50', pick: (b) => b.stop.latencyMs.p50, unit: 'ms' },
  { label: 'stop latency p95', pick: (b) => b.stop.latencyMs.p95, unit: 'ms' },
  { label: 'throughput', pick: (b) => b.throughput.tokensDeliveredPerSecond, unit: 'tok/s' },
];

function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, stdio: ['ignore', 'ignore', 'inherit'] });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} in ${cwd} exited ${result.status ?? result.signal}`);
}

function git(args: string[], cwd: string): string {
  const result = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`git ${args.join(' ')}: ${result.stderr.trim()}`);
  return result.stdout.trim();
}

/** The base commit's checkout, made once (worktree + npm ci) and reused while it matches. */
function checkout(repo: string, ref: string, dir: string): string {
  const sha = git(['rev-parse', '--verify', `${ref}^{commit}`], repo);
  if (existsSync(join(dir, 'node_modules')) && git(['rev-parse', 'HEAD'], dir) === sha) return sha;
  if (existsSync(dir)) git(['worktree', 'remove', '--force', dir], repo);
  process.stderr.write(`bench:compare: checking out ${sha.slice(0, 10)} into ${dir} and installing it...\n`);
  git(['worktree', 'add', '--detach', dir, sha], repo);
  run('npm', ['ci', '--no-audit', '--no-fund'], dir);
  return sha;
}

function bench(dir: string, flags: string[], scratch: string, name: string): BenchLine {
  const file = join(scratch, `${name}.json`);
  const args = ['--import', 'tsx', 'apps/loadtest/src/bench.ts', ...flags, '--json', file];
  const result = spawnSync(process.execPath, args, { cwd: dir, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (result.status !== 0) {
    // Its report names what went wrong (failures, mismatches, violations, with examples).
    process.stderr.write(`${result.stdout.split('\n').slice(-40).join('\n')}\n`);
    throw new Error(`the bench in ${dir} exited ${result.status ?? result.signal}; its report's end is above`);
  }
  const line = JSON.parse(readFileSync(file, 'utf8')) as BenchLine;
  if (!line.ok) throw new Error(`the bench in ${dir} reported failures (see ${file})`);
  return line;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

function main(): number {
  const split = process.argv.indexOf('--');
  const own = split < 0 ? process.argv.slice(2) : process.argv.slice(2, split);
  const benchFlags = split < 0 ? [] : process.argv.slice(split + 1);
  let base: string | undefined;
  let rounds: number;
  let dir: string | undefined;
  try {
    const { values } = parseArgs({ args: own, options: { base: { type: 'string' }, rounds: { type: 'string' }, dir: { type: 'string' } } });
    base = stringFlag(values, 'base');
    rounds = numberFlag(values, 'rounds', 2, 1, 20);
    dir = stringFlag(values, 'dir');
    if (base === undefined) throw new UsageError('--base is required');
  } catch (err) {
    process.stderr.write(`bench:compare: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  const repo = resolve(import.meta.dirname, '../../..');
  const baseDir = resolve(dir ?? join(tmpdir(), `ragstream-bench-base-${base.replace(/[^\w.-]/g, '_')}`));
  const sha = checkout(repo, base, baseDir);
  const head = git(['rev-parse', '--short=10', 'HEAD'], repo);
  const scratch = mkdtempSync(join(tmpdir(), 'ragstream-bench-compare-'));
  const results: { base: BenchLine[]; head: BenchLine[] } = { base: [], head: [] };
  try {
    for (let round = 0; round < rounds; round += 1) {
      // Alternating which goes first evens out a machine that gets busier or quieter.
      const order: ('base' | 'head')[] = round % 2 === 0 ? ['base', 'head'] : ['head', 'base'];
      for (const side of order) {
        process.stderr.write(`bench:compare: round ${round + 1}/${rounds}, ${side}...\n`);
        results[side].push(bench(side === 'base' ? baseDir : repo, benchFlags, scratch, `${side}-${round}`));
      }
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const rows = [['', `base ${sha.slice(0, 10)}`, `this ${head}`, 'this / base']];
  for (const metric of METRICS) {
    const b = median(results.base.map(metric.pick));
    const h = median(results.head.map(metric.pick));
    const show = (v: number): string => (metric.unit === 'ms' ? `${ms(v)} ms` : `${Math.round(v)} tok/s`);
    rows.push([metric.label, show(b), show(h), (h / b).toFixed(2)]);
  }
  process.stdout.write(`Medians of ${rounds} round(s) per side, alternating; bench flags: ${benchFlags.join(' ') || '(defaults)'}\n`);
  process.stdout.write(`${textTable(rows)}\n`);
  return 0;
}

process.exit(main());
