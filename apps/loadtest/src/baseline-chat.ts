import { once } from 'node:events';
import WebSocket from 'ws';
import { Deferred, within } from './deferred.ts';
import { errorText } from './problems.ts';

/** An API node's in-process baseline (LOADTEST_BASELINE): /loadtest/baseline. */
const BASELINE_PATH = '/loadtest/baseline';

export interface BaselineAnswer {
  /** Message sent -> first delta received, ms. */
  ttft: number;
  text: string;
}

/**
 * A chat against an API node's in-process baseline: each message is answered by the synthetic
 * responder in the node's own process, with no queue, worker or Redis between, so that its time
 * to first token is what the real path's would be without them.
 */
export class BaselineChat {
  private current: { sentAt: number; ttft?: number; text: string; done: Deferred<BaselineAnswer> } | undefined;

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data) => this.onFrame(String(data)));
    ws.on('close', () => this.current?.done.reject(new Error('baseline connection closed')));
    ws.on('error', (err) => this.current?.done.reject(err));
  }

  static async open(baseUrl: string, tokens: number, tokensPerSecond: number, timeoutMs: number): Promise<BaselineChat> {
    const url = `${baseUrl.replace(/^http/, 'ws')}${BASELINE_PATH}?tokens=${tokens}&tps=${tokensPerSecond}`;
    const ws = new WebSocket(url);
    try {
      await within(once(ws, 'open'), timeoutMs, `baseline ${url}`);
    } catch (err) {
      ws.terminate();
      throw new Error(`the in-process baseline at ${url} did not open (is LOADTEST_BASELINE on?): ${errorText(err)}`);
    }
    return new BaselineChat(ws);
  }

  ask(timeoutMs: number): Promise<BaselineAnswer> {
    const done = new Deferred<BaselineAnswer>();
    this.current = { sentAt: performance.now(), text: '', done };
    this.ws.send('{"mt":"message_upload"}');
    return within(done.promise, timeoutMs, 'baseline answer');
  }

  close(): void {
    this.ws.terminate();
  }

  private onFrame(raw: string): void {
    const answer = this.current;
    if (!answer) return;
    const frame = JSON.parse(raw) as { mt: string; delta?: string; text?: string };
    if (frame.mt === 'chat_message_bot_partial') {
      answer.ttft ??= performance.now() - answer.sentAt;
      answer.text += frame.delta ?? '';
    } else if (frame.mt === 'chat_message_bot_complete') {
      if (answer.ttft === undefined) answer.done.reject(new Error('baseline answer ended without a delta'));
      else answer.done.resolve({ ttft: answer.ttft, text: answer.text });
      this.current = undefined;
    }
  }
}
