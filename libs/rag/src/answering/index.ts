export * from './answer-type.ts';
export * from './extractive-answerer.ts';
export * from './not-covered-reply.ts';
