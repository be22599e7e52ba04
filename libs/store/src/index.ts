export * from './chat-store.ts';
export * from './create-chat-store.ts';
export * from './mongo-chat-store.ts';
export * from './sqlite-chat-store.ts';
