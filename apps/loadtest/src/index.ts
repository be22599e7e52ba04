export * from './bench-config.ts';
export * from './bench-report.ts';
export * from './load-config.ts';
export * from './load-report.ts';
export * from './percentiles.ts';
export * from './run-bench.ts';
export * from './run-load.ts';
