import { writeFileSync } from 'node:fs';
import type { TestCluster } from '@ragstream/testing';
import { emitJson, UsageError } from './cli-flags.ts';
import { LOAD_USAGE, parseLoadArgs } from './load-config.ts';
import { renderLoadHtml } from './load-html.ts';
import { formatLoadReport } from './load-report.ts';
import { runLoad } from './run-load.ts';

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseLoadArgs>;
  try {
    cli = parseLoadArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`loadtest: ${err.message}\n\n${LOAD_USAGE}`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(LOAD_USAGE);
    return 0;
  }
  // First Ctrl-C: stop sending, abandon answers in flight, report. Second: stop the local cluster and exit.
  const interrupt = new AbortController();
  let cluster: TestCluster | undefined;
  const onSigint = (): void => {
    if (!interrupt.signal.aborted) {
      process.stderr.write('loadtest: interrupted; reporting what ran (Ctrl-C again to quit at once)\n');
      interrupt.abort();
      return;
    }
    void (cluster?.stop() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.on('SIGINT', onSigint);
  const result = await runLoad(cli.options, {
    log: (line) => process.stderr.write(`loadtest: ${line}\n`),
    signal: interrupt.signal,
    onCluster: (c) => (cluster = c),
  });
  const report = formatLoadReport(result);
  process.stdout.write(`${report}\n`);
  emitJson(result, cli.jsonFile);
  if (cli.htmlFile) {
    writeFileSync(cli.htmlFile, renderLoadHtml(result, report));
    process.stderr.write(`loadtest: wrote ${cli.htmlFile}\n`);
  }
  return result.ok ? 0 : 1;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`loadtest: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
