export * from './chat-store.ts';
export * from './create-chat-store.ts';
export * from './create-knowledge-store.ts';
export { newMessageId } from './ids.ts';
export * from './knowledge-store.ts';
export * from './mongo-chat-store.ts';
export * from './mongo-knowledge-store.ts';
export * from './sqlite-chat-store.ts';
export * from './sqlite-knowledge-store.ts';
