// Test doubles for other packages' tests (`@ragstream/rag/testing`); never imported by production code.
export * from './scripted-openai-chat-server.ts';
export * from './minimal-pdf.ts';
