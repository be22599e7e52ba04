import { abortableSleep } from './abortable-sleep.ts';
import type { AnswerEvent, AnswerRequest, Responder } from './responder.ts';

/**
 * The default until a model is configured: it says plainly that no language model
 * is configured and echoes the question, streamed word by word so that clients can
 * see streaming work end to end.
 */
export class OfflineEchoResponder implements Responder {
  readonly name = 'offline-echo';

  constructor(private readonly wordDelayMs = 15) {}

  async *respond(request: AnswerRequest, signal: AbortSignal): AsyncIterable<AnswerEvent> {
    const reply = `No language model is configured (LLM_PROVIDER=offline-echo), so this offline responder echoes your message: "${request.text}"`;
    const words = reply.split(/(?<=\s)/);
    for (const word of words) {
      await abortableSleep(this.wordDelayMs, signal);
      yield { type: 'delta', text: word };
    }
  }
}
