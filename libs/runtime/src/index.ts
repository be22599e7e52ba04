export * from './env.ts';
export * from './health.ts';
export * from './logger.ts';
export * from './metrics-registry.ts';
export * from './metrics-router.ts';
export * from './queue-gauges.ts';
export * from './shutdown.ts';
