// Test doubles for other packages' tests (`@ragstream/rag/testing`); never imported by production code.

export * from './minimal-pdf.ts';
export * from './scripted-openai-chat-server.ts';
