export * from './abortable-sleep.ts';
export * from './create-responder.ts';
export * from './offline-echo-responder.ts';
export * from './responder.ts';
export * from './synthetic-responder.ts';
