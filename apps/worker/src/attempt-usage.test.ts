import { estimateTokens } from '@ragstream/rag';
import { describe, expect, it } from 'vitest';
import { AttemptUsage } from './attempt-usage.ts';

describe('AttemptUsage', () => {
  it('sums the usage its model requests reported', () => {
    const usage = new AttemptUsage();
    usage.add({ promptTokens: 12, completionTokens: 3 });
    usage.add({ promptTokens: 100, completionTokens: 40, estimated: true });
    expect(usage.total('question', 'a long streamed answer')).toEqual({ promptTokens: 112, completionTokens: 43 });
  });

  it('estimates from the question and the streamed text when no model was asked', () => {
    expect(new AttemptUsage().total('How much is shipping?', 'Twelve euros.')).toEqual({
      promptTokens: estimateTokens('How much is shipping?'),
      completionTokens: estimateTokens('Twelve euros.'),
    });
  });
});
