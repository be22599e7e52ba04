import type { RecordedOpenAiRequest, ScriptedChatReply, ScriptedChatStep, ScriptedOpenAiChatServer } from '@ragstream/rag/testing';

/** Streaming chat completions are the answer; the others are the pipeline's query tools (translation, follow-up rewrite). */
export type CallKind = 'answer' | 'tool';

const TAG = /\[([A-Za-z0-9-]+-\d+)\]/;

export function tagOf(request: RecordedOpenAiRequest): string | undefined {
  for (const message of request.messages) {
    const match = TAG.exec(message.content);
    if (match?.[1] !== undefined) return `[${match[1]}]`;
  }
  return undefined;
}

/**
 * A fallback step for the scripted OpenAI server that answers each request by the
 * question's tag, the kind of call and how many of that kind the tag has had (1-based).
 */
export function scriptByTag(decide: (kind: CallKind, n: number, tag: string | undefined) => ScriptedChatReply): ScriptedChatStep {
  const counts = new Map<string, number>();
  return (request) => {
    const tag = tagOf(request);
    const kind: CallKind = request.stream ? 'answer' : 'tool';
    const key = `${tag ?? '?'} ${kind}`;
    const n = (counts.get(key) ?? 0) + 1;
    counts.set(key, n);
    return decide(kind, n, tag);
  };
}

/** The requests the scripted server received for one question, in order. */
export function callsFor(server: ScriptedOpenAiChatServer, tag: string): { kind: CallKind; request: RecordedOpenAiRequest }[] {
  return server
    .chatRequests()
    .filter((request) => tagOf(request) === tag)
    .map((request) => ({ kind: request.stream ? 'answer' : 'tool', request }));
}

/** Model tokens of a scripted answer: deterministic, so that the full text is known. */
export function modelTokens(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `word${i + 1} `);
}
