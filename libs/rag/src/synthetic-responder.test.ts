import { describe, expect, it } from 'vitest';
import type { ModelUsage } from './llm/chat-model.ts';
import { estimateTokens } from './llm/chat-model.ts';
import type { AnswerRequest } from './responder.ts';
import { SyntheticResponder, syntheticAnswer, syntheticPromptTokens } from './synthetic-responder.ts';

const REQUEST: AnswerRequest = { chatId: 'c', organisationId: 'o', userId: 'u', userMessageId: 'm', text: 'How are you today?' };

describe('SyntheticResponder', () => {
  it('streams the deterministic answer and reports its usage like a model: the question in, the tokens out', async () => {
    const usages: ModelUsage[] = [];
    let text = '';
    for await (const event of new SyntheticResponder(5, 0).respond(REQUEST, new AbortController().signal, (u) => usages.push(u))) {
      if (event.type === 'delta') text += event.text;
    }
    expect(text).toBe(syntheticAnswer(5));
    expect(syntheticPromptTokens(REQUEST.text)).toBe(estimateTokens(REQUEST.text));
    expect(usages).toEqual([{ promptTokens: syntheticPromptTokens(REQUEST.text), completionTokens: 5 }]);
  });

  it('reports the tokens it streamed when stopped', async () => {
    const usages: ModelUsage[] = [];
    const controller = new AbortController();
    let deltas = 0;
    await expect(async () => {
      for await (const event of new SyntheticResponder(50, 1000).respond(REQUEST, controller.signal, (u) => usages.push(u))) {
        if (event.type !== 'delta') continue;
        deltas += 1;
        if (deltas === 3) controller.abort(new Error('stop'));
      }
    }).rejects.toThrow('stop');
    expect(usages).toEqual([{ promptTokens: syntheticPromptTokens(REQUEST.text), completionTokens: 3 }]);
  });
});
