import type { AnswerStage, Source } from '@ragstream/protocol';
import type { UsageListener } from './llm/chat-model.ts';

export interface AnswerRequest {
  chatId: string;
  organisationId: string;
  userId: string;
  /** The user message being answered (history before it is context). */
  userMessageId: string;
  text: string;
  selectedLanguage?: string | undefined;
  timezone?: string | undefined;
}

export type AnswerEvent =
  | { type: 'delta'; text: string }
  | { type: 'sources'; sources: Source[] }
  | { type: 'status'; stage: AnswerStage; language?: string }
  /** What the answer rests on: `grounded` false for auto-replies and general model answers. */
  | { type: 'meta'; grounded: boolean; language: string };

/**
 * What the worker runs for each generation. Implementations stream answer text
 * and stop promptly (throwing) once `signal` aborts. `onUsage` is told the tokens of each
 * model request they make, also when stopped; one that calls no model tells nothing.
 */
export interface Responder {
  readonly name: string;
  respond(request: AnswerRequest, signal: AbortSignal, onUsage?: UsageListener): AsyncIterable<AnswerEvent>;
}
