export * from './answer-generator.ts';
export * from './llm-answer-generator.ts';
export * from './offline-answer-generator.ts';
export * from './ports.ts';
export * from './rag-responder.ts';
export * from './stream-words.ts';
