import type { ServerFrame } from '@ragstream/protocol';
import type { TestCluster } from './test-cluster.ts';
import { WsChatClient } from './ws-client.ts';

type SequencedFrame = Extract<ServerFrame, { generationId: string; seq: number }>;

export interface ResumedAnswer {
  generationId: string;
  /** Frames the first client got before its connection dropped. */
  seen: SequencedFrame[];
  /** Frames the second client got after resuming from the last of them. */
  resumed: SequencedFrame[];
  done: Extract<ServerFrame, { mt: 'chat_message_bot_complete' }>;
}

/**
 * Asks a question over API node 0, drops that connection (a dropped network, not a clean
 * close) once a few partials arrived, and resumes on API node 1 from the last seq it got,
 * until the answer's terminal frame.
 */
export async function resumeAcrossNodes(cluster: TestCluster, chatId: string, question: string): Promise<ResumedAnswer> {
  const first = await WsChatClient.connect(cluster.api(0), chatId);
  first.send({ mt: 'message_upload', message: question, userId: 'u1' });
  const generationId = (await first.collector.waitForMt('message_upload_confirm')).generationId ?? '';
  await first.collector.waitFor((f) => f.mt === 'chat_message_bot_partial' && f.seq >= 5);
  first.terminate();
  const seen = first.collector.ofGeneration(generationId);
  const lastSeq = seen.at(-1)?.seq ?? 0;
  const second = await WsChatClient.connect(cluster.api(1), chatId, { generationId, lastSeq });
  try {
    const done = await second.collector.waitForTerminal(generationId);
    return { generationId, seen, resumed: second.collector.ofGeneration(generationId), done };
  } finally {
    await second.close();
  }
}
