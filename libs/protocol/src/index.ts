export * from './chat.ts';
export * from './error-codes.ts';
export * from './frames.ts';
export * from './ids.ts';
export * from './jobs.ts';
export * from './limits.ts';
export * from './redis-keys.ts';
export * from './rest.ts';
