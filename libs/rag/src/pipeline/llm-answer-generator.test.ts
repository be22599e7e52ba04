import { describe, expect, it } from 'vitest';
import type { ChatModel, ChatModelOptions, ChatTurn } from '../llm/chat-model.ts';
import type { GenerationInput } from './answer-generator.ts';
import { LlmAnswerGenerator } from './llm-answer-generator.ts';
import type { RetrievedPassage } from './ports.ts';

/** Records the options of every streamed request and answers with one delta. */
class RecordingModel implements ChatModel {
  readonly name = 'recording';
  readonly streamed: ChatModelOptions[] = [];

  async *stream(_messages: ChatTurn[], options: ChatModelOptions): AsyncIterable<string> {
    this.streamed.push(options);
    yield 'answer';
  }

  async complete(): Promise<string> {
    return 'query';
  }
}

const input: GenerationInput = {
  question: 'How much is it?',
  language: 'en',
  organisation: null,
  history: [],
  signal: new AbortController().signal,
};
const passage: RetrievedPassage = {
  chunkId: 'c1',
  documentId: 'd1',
  title: 'Prices',
  text: 'It costs 12 euros.',
  language: 'en',
  score: 1,
};

async function drain(text: AsyncIterable<string>): Promise<void> {
  for await (const _ of text);
}

describe('LlmAnswerGenerator', () => {
  it('caps grounded and general answers at maxAnswerTokens', async () => {
    const model = new RecordingModel();
    const generator = new LlmAnswerGenerator(model, 64);
    await drain(generator.grounded([passage], input).text);
    await drain(generator.ungrounded(input));
    expect(model.streamed.map((o) => o.maxTokens)).toEqual([64, 64]);
  });

  it('leaves the length to the model when no cap is set', async () => {
    const model = new RecordingModel();
    await drain(new LlmAnswerGenerator(model).grounded([passage], input).text);
    expect(model.streamed[0]?.maxTokens).toBeUndefined();
  });
});
