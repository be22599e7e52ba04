import { describe, expect, it } from 'vitest';
import type { ChatModel, ChatModelOptions, ChatTurn } from './chat-model.ts';
import { LlmError } from './llm-error.ts';
import { cleanModelOutput, rewriteWithLlm, translateWithLlm } from './llm-query-tools.ts';

/** A ChatModel that answers `complete()` from a fixed reply and records the calls. */
class FixedReplyModel implements ChatModel {
  readonly name = 'fixed-reply';
  readonly calls: { messages: ChatTurn[]; options: ChatModelOptions }[] = [];
  constructor(private readonly reply: string | Error) {}

  async *stream(): AsyncIterable<string> {
    yield* [];
    throw new Error('not used');
  }

  async complete(messages: ChatTurn[], options: ChatModelOptions): Promise<string> {
    this.calls.push({ messages, options });
    options.signal.throwIfAborted();
    if (this.reply instanceof Error) throw this.reply;
    return this.reply;
  }
}

const HISTORY: ChatTurn[] = [
  { role: 'user', content: 'Tell me about the X200 washer.' },
  { role: 'assistant', content: 'The X200 is a 7 kg front loader.' },
];
const signal = new AbortController().signal;

describe('rewriteWithLlm', () => {
  it('returns the cleaned standalone question, asked at temperature 0', async () => {
    const model = new FixedReplyModel('Standalone question: "What is the price of the X200 washer?"\n');
    await expect(rewriteWithLlm(model, HISTORY, 'and its price?', signal)).resolves.toBe('What is the price of the X200 washer?');
    expect(model.calls[0]?.options.temperature).toBe(0);
    expect(model.calls[0]?.messages.at(-1)?.content).toContain('Follow-up: and its price?');
  });

  it('does not call the model without history', async () => {
    const model = new FixedReplyModel('unused');
    await expect(rewriteWithLlm(model, [], 'and its price?', signal)).resolves.toBe('and its price?');
    expect(model.calls).toHaveLength(0);
  });

  it.each(['', '   ', '""', '<think>they mean the X200</think>\n'])('falls back to the question on empty output %j', async (reply) => {
    await expect(rewriteWithLlm(new FixedReplyModel(reply), HISTORY, 'and its price?', signal)).resolves.toBe('and its price?');
  });

  it('falls back when the model answers at length instead of rewriting', async () => {
    const essay = 'The X200 costs a lot. '.repeat(40);
    await expect(rewriteWithLlm(new FixedReplyModel(essay), HISTORY, 'and its price?', signal)).resolves.toBe('and its price?');
  });

  it('asks for no more tokens than a plausible reply needs: 200 for a short question, 512 at most', async () => {
    const model = new FixedReplyModel('What is the price of the X200 washer?');
    await rewriteWithLlm(model, HISTORY, 'and its price?', signal);
    await translateWithLlm(model, 'x'.repeat(2000), 'hi', signal);
    expect(model.calls.map((call) => call.options.maxTokens)).toEqual([200, 512]);
  });

  it('lets provider errors and aborts through', async () => {
    const failure = new LlmError('down', { kind: 'server', retryable: true, status: 503 });
    await expect(rewriteWithLlm(new FixedReplyModel(failure), HISTORY, 'and its price?', signal)).rejects.toBe(failure);
    const controller = new AbortController();
    controller.abort(new Error('stop'));
    await expect(rewriteWithLlm(new FixedReplyModel('x'), HISTORY, 'q', controller.signal)).rejects.toThrow('stop');
  });
});

describe('translateWithLlm', () => {
  it('returns the cleaned translation', async () => {
    const model = new FixedReplyModel('Translation: «X200 की कीमत क्या है?»');
    await expect(translateWithLlm(model, 'What is the price of the X200?', 'hi', signal)).resolves.toBe('X200 की कीमत क्या है?');
    expect(model.calls[0]?.messages[0]?.content).toContain('Hindi');
  });

  it('keeps only as many lines as the input had, dropping trailing notes', async () => {
    const model = new FixedReplyModel('What is the price?\n\nNote: "कीमत" means price.');
    await expect(translateWithLlm(model, 'कीमत क्या है?', 'en', signal)).resolves.toBe('What is the price?');
  });

  it('falls back to the input on empty output and skips empty input', async () => {
    await expect(translateWithLlm(new FixedReplyModel('  '), 'कीमत क्या है?', 'en', signal)).resolves.toBe('कीमत क्या है?');
    const model = new FixedReplyModel('unused');
    await expect(translateWithLlm(model, '  ', 'en', signal)).resolves.toBe('  ');
    expect(model.calls).toHaveLength(0);
  });
});

describe('cleanModelOutput', () => {
  const one = { maxLines: 1, maxChars: 400 };
  it.each([
    ['"What is the X200 price?"', 'What is the X200 price?'],
    ['“What is the X200 price?”', 'What is the X200 price?'],
    ['**Question:** What is the X200 price?', 'What is the X200 price?'],
    ['**Translation**: X200 की कीमत', 'X200 की कीमत'],
    ['Question time: what now?', 'Question time: what now?'],
    ['**"What is the X200 price?"**', 'What is the X200 price?'],
    ['Rewritten question: What is the X200 price?', 'What is the X200 price?'],
    ['प्रश्न: X200 की कीमत क्या है?', 'X200 की कीमत क्या है?'],
    ['<think>\nresolve "its"\n</think>\nWhat is the X200 price?', 'What is the X200 price?'],
    ["'X200 price'", 'X200 price'],
    ['"X200" or "X300"', '"X200" or "X300"'],
  ])('%j -> %j', (output, expected) => {
    expect(cleanModelOutput(output, one)).toBe(expected);
  });
});
