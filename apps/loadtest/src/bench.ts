import type { TestCluster } from '@ragstream/testing';
import { BENCH_USAGE, parseBenchArgs } from './bench-config.ts';
import { formatBenchReport } from './bench-report.ts';
import { emitJson, UsageError } from './cli-flags.ts';
import { runBench } from './run-bench.ts';

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseBenchArgs>;
  try {
    cli = parseBenchArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message}\n\n${BENCH_USAGE}`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(BENCH_USAGE);
    return 0;
  }
  let cluster: TestCluster | undefined;
  process.once('SIGINT', () => {
    process.stderr.write('bench: interrupted; stopping the cluster\n');
    void (cluster?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  });
  const result = await runBench(cli.options, {
    log: (line) => process.stderr.write(`bench: ${line}\n`),
    onCluster: (c) => (cluster = c),
  });
  process.stdout.write(`${formatBenchReport(result)}\n`);
  emitJson(result, cli.jsonFile);
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
