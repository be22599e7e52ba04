export * from './answer-leases.ts';
export * from './generation-lifecycle.ts';
export * from './generation-log-fields.ts';
export * from './generation-queue.ts';
