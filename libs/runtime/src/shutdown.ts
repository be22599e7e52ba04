import type { Logger } from './logger.ts';

type Step = { name: string; run: () => Promise<unknown> | unknown };

/**
 * The one ordered shutdown path of a process: steps run in the order they were
 * registered (register the intake first, the stores last), with a force-quit timer.
 */
export class Shutdown {
  private readonly steps: Step[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly logger: Logger,
    private readonly forceAfterMs = 10_000,
  ) {}

  add(name: string, run: Step['run']): void {
    this.steps.push({ name, run });
  }

  /**
   * Installs SIGINT/SIGTERM handlers that run the steps and exit 0, and logs an
   * unhandled rejection (Node would exit too, but not in the log format) before exiting 1.
   */
  installSignalHandlers(): void {
    process.on('unhandledRejection', (err: unknown) => {
      this.logger.error('unhandled rejection', { err });
      process.exit(1);
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      process.once(signal, () => {
        this.logger.info('shutting down', { signal });
        void this.run().then(() => process.exit(0));
      });
    }
  }

  run(): Promise<void> {
    this.running ??= this.runSteps();
    return this.running;
  }

  private async runSteps(): Promise<void> {
    const timer = setTimeout(() => {
      this.logger.error('shutdown timed out; forcing exit');
      process.exit(1);
    }, this.forceAfterMs);
    timer.unref();
    for (const step of this.steps) {
      try {
        await step.run();
      } catch (err) {
        this.logger.warn('shutdown step failed', { step: step.name, err });
      }
    }
    clearTimeout(timer);
  }
}
