import { writeFileSync } from 'node:fs';
import type { ChaosEnv } from './chaos-env.ts';
import { CHAOS_USAGE, parseChaosArgs, UsageError } from './cli.ts';
import { failureLogExcerpt } from './failure-logs.ts';
import { formatReport } from './report.ts';
import { runChaos } from './run-chaos.ts';

async function main(): Promise<number> {
  let cli: ReturnType<typeof parseChaosArgs>;
  try {
    cli = parseChaosArgs(process.argv.slice(2));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`chaos: ${err.message}\n\n${CHAOS_USAGE}`);
    return 2;
  }
  if (cli.help) {
    process.stdout.write(CHAOS_USAGE);
    return 0;
  }
  let current: ChaosEnv | undefined;
  const interrupt = (signal: string): void => {
    process.stderr.write(`chaos: ${signal}; stopping the processes it started\n`);
    void (current?.close() ?? Promise.resolve()).finally(() => process.exit(130));
  };
  process.once('SIGINT', () => interrupt('SIGINT'));
  process.once('SIGTERM', () => interrupt('SIGTERM'));
  const log = (line: string): void => {
    if (!cli.quiet) process.stderr.write(`chaos: ${line}\n`);
  };
  log(`seed ${cli.sizes.seed}; scenarios: ${cli.scenarios.map((s) => s.name).join(', ')}`);
  const run = await runChaos(cli.scenarios, cli.sizes, {
    log,
    onEnv: (env) => (current = env),
    onFailureLogs: (scenario, logs, problems) =>
      process.stderr.write(
        `\n===== logs of failing scenario ${scenario} =====\n${failureLogExcerpt(logs, problems)}\n===== end of logs of ${scenario} =====\n`,
      ),
  });
  process.stdout.write(`${formatReport(run)}\n`);
  if (cli.jsonFile !== undefined) writeFileSync(cli.jsonFile, `${JSON.stringify(run, null, 2)}\n`);
  return run.ok ? 0 : 1;
}

// An error escaping a scenario must not leave its processes running: the env's exit hook SIGKILLs them.
main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
