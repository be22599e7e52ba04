// The LLM provider port, its OpenAI-compatible adapter, and the prompts and
// query tools built on it. The scripted server in ../testing is a test double
// and deliberately not exported here.
export * from './chat-model.ts';
export * from './llm-error.ts';
export * from './llm-query-tools.ts';
export * from './openai-chat-model.ts';
export * from './prompts.ts';
