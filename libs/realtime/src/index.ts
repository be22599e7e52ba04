export * from './cancellation-listener.ts';
export * from './chat-subscription.ts';
export * from './frame-hub.ts';
export * from './frame-log.ts';
export * from './generation-stream.ts';
export * from './ingestion-queue.ts';
export * from './presence.ts';
export * from './redis-connection.ts';
