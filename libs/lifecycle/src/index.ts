export * from './generation-lifecycle.ts';
export * from './generation-queue.ts';
