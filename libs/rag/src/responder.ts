import type { Source } from '@ragstream/protocol';

export interface AnswerRequest {
  chatId: string;
  userId: string;
  text: string;
  selectedLanguage?: string | undefined;
  timezone?: string | undefined;
}

export type AnswerEvent = { type: 'delta'; text: string } | { type: 'sources'; sources: Source[] };

/**
 * What the worker runs for each generation. Implementations stream answer text
 * and stop promptly (throwing) once `signal` aborts.
 */
export interface Responder {
  readonly name: string;
  respond(request: AnswerRequest, signal: AbortSignal): AsyncIterable<AnswerEvent>;
}
