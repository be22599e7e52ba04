import { existsSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { textTable } from '@ragstream/testing';
import type { BareRun } from './bare-stack.ts';
import { runBareStack } from './bare-stack.ts';
import { listFlag, numberFlag, stringFlag, UsageError } from './cli-flags.ts';
import { parseLoadArgs } from './load-config.ts';
import type { LoadResult } from './run-load.ts';
import { runLoad } from './run-load.ts';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const DEFAULT_BARE = resolve(REPO, '..', 'shared/bench/stack-ceiling');
// Answers of 100 s outlast the ramp of 2,000 chats (about 75 s here), so that every size has a steady state.
const LOAD_DEFAULTS = [
  '--tokens',
  '2000',
  '--tps',
  '20',
  '--flush-ms',
  '100',
  '--transport',
  'socketio',
  '--duration',
  '180',
  '--grace',
  '120',
  '--baseline',
  '0',
];

const USAGE = `Usage: npm run loadtest:knee -- [--chats 500,1000,1500,2000] [--bare DIR] [--bare-seconds S] [--json FILE] [-- loadtest flags]

Finds where RagStream stops holding its targets: for each number of chats, the bare stack
(socket.io servers, emitters and a load process: DIR/run.js, default ${DEFAULT_BARE}, when
present) and then \`npm run loadtest -- --local\` with one answer per chat, one after the other
in the same run, each on the machine alone. Prints, per size, time to first token, delivery
latency beside the bare stack's, CPU-seconds per 1,000 tokens by kind of process with their
ratios to the bare stack's, and what was busiest: the process with the most CPU and the
largest event-loop delay over the steady state.

Load flags default to ${LOAD_DEFAULTS.join(' ')}; flags after -- override them.
  --chats LIST       sizes, comma-separated (default 500,1000,1500,2000)
  --bare DIR         the bare stack's scripts; "none" to skip it
  --bare-seconds S   the bare stack's streaming time (default 20)
  --json FILE        every size's figures as JSON
`;

interface KneeRow {
  chats: number;
  bare: BareRun | undefined;
  ours: LoadResult;
}

function ratio(ours: number | undefined, bare: number | undefined): string {
  return ours === undefined || bare === undefined || bare === 0 ? '-' : (ours / bare).toFixed(2);
}

function busiest(result: LoadResult): string {
  const st = result.steadyState;
  const processes = st?.processes ?? result.processes;
  const seconds = st?.seconds ?? result.wallMs / 1000;
  const top = [...processes].sort((a, b) => b.cpuSeconds - a.cpuSeconds)[0];
  const machine = processes.reduce((sum, p) => sum + p.cpuSeconds, 0) / seconds;
  const lagged = [...result.processes]
    .filter((p) => p.eventLoopLag)
    .sort((a, b) => (b.eventLoopLag?.p99 ?? 0) - (a.eventLoopLag?.p99 ?? 0))[0];
  return [
    top ? `${top.name} ${((100 * top.cpuSeconds) / seconds).toFixed(0)}%` : '-',
    `all ${(100 * machine).toFixed(0)}%`,
    lagged?.eventLoopLag ? `lag ${lagged.name} ${lagged.eventLoopLag.p99} ms` : '',
  ]
    .filter((part) => part !== '')
    .join(', ');
}

function formatRows(rows: readonly KneeRow[]): string {
  const header = [
    'chats',
    'ok',
    'TTFT p50 / p99',
    'delivery p50 / p99 (bare)',
    'p99 ×',
    'api ×',
    'worker ×',
    'redis ×',
    'total ×',
    'load ×',
    'busiest',
  ];
  const body = rows.map(({ chats, bare, ours }) => {
    const per = ours.steadyState?.cpuPerThousandTokens ?? ours.cpuPerThousandTokens ?? {};
    const b = bare?.cpuPerThousandTokens;
    const s = ours.summary;
    return [
      String(chats),
      `${s.answers_completed}/${ours.answers.sent}${s.lost_frames + s.duplicate_frames > 0 ? ` lost ${s.lost_frames} dup ${s.duplicate_frames}` : ''}`,
      `${s.ttft_ms.p50.toFixed(0)} / ${s.ttft_ms.p99.toFixed(0)} ms`,
      `${s.delivery_ms.p50.toFixed(0)} / ${s.delivery_ms.p99.toFixed(0)} ms${bare ? ` (${bare.line.lat_p50} / ${bare.line.lat_p99})` : ''}`,
      ratio(s.delivery_ms.p99, bare?.line.lat_p99),
      `${per.api ?? '-'} (${ratio(per.api, b?.api)})`,
      `${per.worker ?? '-'} (${ratio(per.worker, b?.worker)})`,
      `${per.redis ?? '-'} (${ratio(per.redis, b?.redis)})`,
      `${per.total ?? '-'} (${ratio(per.total, b?.total)})`,
      `${per.load ?? '-'} (${ratio(per.load, b?.load)})`,
      `${ours.steadyState ? 'steady' : 'WHOLE RUN'}: ${busiest(ours)}`,
    ];
  });
  return textTable([header, ...body]);
}

async function main(): Promise<number> {
  const separator = process.argv.indexOf('--', 2);
  const own = separator < 0 ? process.argv.slice(2) : process.argv.slice(2, separator);
  const loadFlags = separator < 0 ? [] : process.argv.slice(separator + 1);
  let values: Record<string, string | boolean | undefined>;
  try {
    values = parseArgs({
      args: own,
      strict: true,
      options: {
        help: { type: 'boolean' },
        chats: { type: 'string' },
        bare: { type: 'string' },
        'bare-seconds': { type: 'string' },
        json: { type: 'string' },
      },
    }).values;
  } catch (err) {
    process.stderr.write(`loadtest:knee: ${err instanceof Error ? err.message : String(err)}\n\n${USAGE}`);
    return 2;
  }
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  const sizes = (listFlag(values, 'chats').length > 0 ? listFlag(values, 'chats') : ['500', '1000', '1500', '2000']).map(Number);
  const bareDir = stringFlag(values, 'bare') ?? (existsSync(DEFAULT_BARE) ? DEFAULT_BARE : 'none');
  const bareSeconds = numberFlag(values, 'bare-seconds', 20, 5, 600);
  const log = (line: string): void => void process.stderr.write(`loadtest:knee: ${line}\n`);
  if (bareDir === 'none') log('no bare stack (its scripts were not found): RagStream only, without ratios');

  const rows: KneeRow[] = [];
  for (const chats of sizes) {
    const cli = parseLoadArgs(['--local', '--messages-per-chat', '1', ...LOAD_DEFAULTS, ...loadFlags, '--chats', String(chats)]);
    const local = cli.options.local;
    if (!local) throw new UsageError('the knee runs a local cluster');
    let bare: BareRun | undefined;
    if (bareDir !== 'none') {
      log(`${chats} chats: the bare stack, ${bareSeconds} s...`);
      bare = await runBareStack(bareDir, {
        chats,
        tokensPerSecond: local.tokensPerSecond,
        seconds: bareSeconds,
        windowMs: local.flushMs,
        redisUrl: process.env.BARE_REDIS_URL ?? 'redis://127.0.0.1:6379/8',
        nodePath: resolve(REPO, 'node_modules'),
      });
    }
    log(`${chats} chats: RagStream...`);
    const ours = await runLoad(cli.options, { log: (line) => log(`  ${line}`) });
    rows.push({ chats, bare, ours });
    process.stdout.write(`${formatRows(rows)}\n\n`);
  }
  process.stdout.write(
    'Ratios are RagStream / bare stack, CPU-seconds per 1,000 delivered tokens over the steady state (the bare stack: its streaming time; its Redis: the whole script).\n' +
      'WHOLE RUN: no steady state (the answers ended before the last chat started: give longer answers, --tokens); ' +
      'its CPU includes chat setup, admissions and storing, so its ratios overstate.\n',
  );
  const json = stringFlag(values, 'json');
  if (json !== undefined) {
    const out = rows.map(({ chats, bare, ours }) => ({
      chats,
      bare: bare ? { ...bare.line, cpuPerThousandTokens: bare.cpuPerThousandTokens } : null,
      ours: {
        summary: ours.summary,
        answers: ours.answers,
        steadyState: ours.steadyState,
        cpuPerThousandTokens: ours.cpuPerThousandTokens,
      },
    }));
    writeFileSync(json, `${JSON.stringify(out)}\n`);
  }
  return rows.every((row) => row.ours.ok) ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`loadtest:knee: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
