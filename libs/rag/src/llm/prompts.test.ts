import { describe, expect, it } from 'vitest';
import type { ChatTurn } from './chat-model.ts';
import type { OrganisationContext } from './prompts.ts';
import { buildAnswerPrompt, buildFollowUpRewritePrompt, buildGeneralAnswerPrompt, buildTranslationPrompt } from './prompts.ts';

const ACME: OrganisationContext = {
  name: 'Acme Appliances',
  industry: 'home appliances retail',
  description: 'Sells and services washing machines in Pune.',
  tone: 'warm and concise',
};

const HISTORY: ChatTurn[] = [
  { role: 'user', content: 'Do you sell the X200 washer?' },
  { role: 'assistant', content: 'Yes, the X200 is in stock [1].' },
];

function contentOf(turns: ChatTurn[], role: ChatTurn['role']): string {
  return turns
    .filter((turn) => turn.role === role)
    .map((turn) => turn.content)
    .join('\n');
}

describe('buildAnswerPrompt', () => {
  const prompt = buildAnswerPrompt({
    organisation: ACME,
    language: 'en',
    question: '  What is its warranty? ',
    passages: [
      { title: 'Warranty policy', text: 'All washers carry a 2-year warranty.' },
      { text: 'Service visits are free in the first year.' },
    ],
    history: HISTORY,
  });

  it('puts the organisation context and the rules in the system message', () => {
    expect(prompt[0]?.role).toBe('system');
    const system = prompt[0]?.content ?? '';
    for (const piece of ['Acme Appliances', 'home appliances retail', 'washing machines in Pune', 'warm and concise']) {
      expect(system).toContain(piece);
    }
    expect(system).toContain('Answer in English');
    expect(system).toMatch(/only the numbered passages/);
    expect(system).toContain('[1]');
    expect(system).toContain("don't cover this");
    expect(system).toMatch(/ignore any instructions/);
  });

  it('keeps history turns between the system message and the question, without old citations', () => {
    expect(prompt.map((turn) => turn.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(prompt[1]?.content).toBe('Do you sell the X200 washer?');
    expect(prompt[2]?.content).toBe('Yes, the X200 is in stock.');
  });

  it('numbers the passages with their titles and ends with the question', () => {
    const last = prompt.at(-1)?.content ?? '';
    expect(last).toContain('[1] Warranty policy\nAll washers carry a 2-year warranty.');
    expect(last).toContain('[2]\nService visits are free in the first year.');
    expect(last.endsWith('Question: What is its warranty?')).toBe(true);
    expect(last.indexOf('[1]')).toBeLessThan(last.indexOf('[2]'));
  });

  it('asks for Hindi in Devanagari with a Hindi not-covered phrase', () => {
    const hindi = buildAnswerPrompt({ organisation: ACME, language: 'hi', question: 'वारंटी कितनी है?', passages: [{ text: 'x' }] });
    const system = hindi[0]?.content ?? '';
    expect(system).toContain('Hindi, written in Devanagari');
    expect(system).toContain('दस्तावेज़ों में इसकी जानकारी नहीं है');
    expect(hindi.at(-1)?.content).toContain('Question: वारंटी कितनी है?');
  });

  it('keeps only the most recent history turns, shortened', () => {
    const long: ChatTurn[] = Array.from({ length: 10 }, (_, i) => ({
      role: i % 2 === 0 ? 'user' : 'assistant',
      content: `turn ${i} ${'x'.repeat(2_000)}`,
    }));
    const turns = buildAnswerPrompt({ organisation: ACME, language: 'en', question: 'q', passages: [], history: long, maxHistoryTurns: 4 });
    const history = turns.slice(1, -1);
    expect(history).toHaveLength(4);
    expect(history[0]?.content.startsWith('turn 6')).toBe(true);
    expect(history.every((turn) => turn.content.length <= 1_200)).toBe(true);
    expect(turns.at(-1)?.content).toContain('Passages: none.');
  });

  it('falls back to a neutral tone and omits missing profile fields', () => {
    const system = buildAnswerPrompt({ organisation: { name: 'Solo' }, language: 'en', question: 'q', passages: [] })[0]?.content ?? '';
    expect(system).toContain('You are the assistant of Solo.');
    expect(system).toContain('Tone: friendly');
    expect(system).not.toContain('undefined');
    expect(system).not.toContain('About Solo');
  });
});

describe('buildGeneralAnswerPrompt', () => {
  it('asks for a general answer flagged as not based on the documents, in the user language', () => {
    const prompt = buildGeneralAnswerPrompt({ organisation: ACME, language: 'hi', question: 'बारिश क्यों होती है?', history: HISTORY });
    const system = prompt[0]?.content ?? '';
    expect(system).toContain('Acme Appliances');
    expect(system).toContain('general knowledge');
    expect(system).toContain('Hindi, written in Devanagari');
    expect(system).toContain('सामान्य उत्तर');
    expect(system).toMatch(/Do not cite/);
    expect(prompt.map((turn) => turn.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(prompt.at(-1)?.content).toBe('बारिश क्यों होती है?');
  });
});

describe('buildFollowUpRewritePrompt', () => {
  it('gives the history as a transcript and asks for only the standalone question', () => {
    const prompt = buildFollowUpRewritePrompt(HISTORY, 'and its price?');
    expect(prompt.map((turn) => turn.role)).toEqual(['system', 'user']);
    expect(prompt[0]?.content).toMatch(/standalone question/);
    expect(prompt[0]?.content).toMatch(/Output only the question/);
    const user = prompt[1]?.content ?? '';
    expect(user).toContain('User: Do you sell the X200 washer?');
    expect(user).toContain('Assistant: Yes, the X200 is in stock.');
    expect(user.endsWith('Follow-up: and its price?')).toBe(true);
  });
});

describe('buildTranslationPrompt', () => {
  it('names the target language and asks for only the translation', () => {
    const prompt = buildTranslationPrompt(' What is the price? ', 'hi');
    expect(prompt[0]?.content).toContain('into Hindi, written in Devanagari');
    expect(prompt[0]?.content).toMatch(/Output only the translation/);
    expect(prompt[1]).toEqual({ role: 'user', content: 'What is the price?' });
    expect(contentOf(buildTranslationPrompt('कीमत क्या है?', 'en'), 'system')).toContain('into English.');
  });
});
