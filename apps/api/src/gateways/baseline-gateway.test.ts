import { once } from 'node:events';
import type { Server } from 'node:http';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { syntheticAnswer } from '@ragstream/rag';
import { createLogger } from '@ragstream/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { attachBaseline, BASELINE_PATH } from './baseline-gateway.ts';

let server: Server | undefined;

afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  server = undefined;
});

async function listen(): Promise<string> {
  server = createServer();
  attachBaseline(server, createLogger('baseline-test', 'error'));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return `ws://127.0.0.1:${(server.address() as AddressInfo).port}${BASELINE_PATH}`;
}

describe('the in-process baseline (LOADTEST_BASELINE)', () => {
  it('answers each message with the synthetic answer, delta by delta, and the socket takes the next one', async () => {
    const ws = new WebSocket(`${await listen()}?tokens=5&tps=0`);
    await once(ws, 'open');
    const frames: { mt: string; delta?: string; text?: string }[] = [];
    const ended = (): Promise<void> =>
      new Promise((resolve) => {
        const onMessage = (data: WebSocket.RawData): void => {
          const frame = JSON.parse(String(data)) as { mt: string };
          frames.push(frame);
          if (frame.mt === 'chat_message_bot_complete') {
            ws.off('message', onMessage);
            resolve();
          }
        };
        ws.on('message', onMessage);
      });
    for (let round = 0; round < 2; round += 1) {
      frames.length = 0;
      const end = ended();
      ws.send('{"mt":"message_upload"}');
      await end;
      expect(frames.filter((f) => f.mt === 'chat_message_bot_partial').map((f) => f.delta)).toHaveLength(5);
      expect(frames.at(-1)).toEqual({ mt: 'chat_message_bot_complete', text: syntheticAnswer(5) });
    }
    ws.close();
  });

  it('refuses a malformed query with 400 before upgrading', async () => {
    const ws = new WebSocket(`${await listen()}?tokens=lots&tps=1`);
    const [, response] = (await once(ws, 'unexpected-response')) as [unknown, { statusCode: number }];
    expect(response.statusCode).toBe(400);
    // Given up by the client, which reports the upgrade it never got as an error.
    const gaveUp = once(ws, 'error');
    ws.terminate();
    await gaveUp;
  });
});
