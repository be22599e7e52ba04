import { describe, expect, it } from 'vitest';
import type { HistoryTurn } from './follow-up.ts';
import { isFollowUp, rewriteFollowUp, salientWords } from './follow-up.ts';

const proPlan: HistoryTurn[] = [
  { role: 'user', text: 'Tell me about the Pro plan' },
  { role: 'bot', text: 'The Pro plan includes unlimited projects, priority support and SSO for 20 dollars a month.' },
];

const proPlanHindi: HistoryTurn[] = [
  { role: 'user', text: 'मुझे प्रो प्लान के बारे में बताओ' },
  { role: 'bot', text: 'प्रो प्लान में असीमित प्रोजेक्ट और प्राथमिकता सहायता शामिल है।' },
];

const proPlanRomanised: HistoryTurn[] = [
  { role: 'user', text: 'mujhe Pro plan ke baare mein batao' },
  { role: 'bot', text: 'प्रो प्लान में असीमित प्रोजेक्ट शामिल हैं।' },
];

describe('rewriteFollowUp', () => {
  it.each([
    ['and its price?', proPlan, 'en', 'and its price? Pro plan'],
    ['what about delivery?', proPlan, 'en', 'what about delivery? Pro plan'],
    ['How about support?', proPlan, 'en', 'How about support? Pro plan'],
    ['Also, does it include SSO?', proPlan, 'en', 'Also, does it include SSO? Pro plan'],
    ['Is that available in India?', proPlan, 'en', 'Is that available in India? Pro plan'],
    ['How much do they cost?', proPlan, 'en', 'How much do they cost? Pro plan'],
    ['price?', proPlan, 'en', 'price? Pro plan'],
    ['उसकी कीमत?', proPlanHindi, 'hi', 'उसकी कीमत? प्रो प्लान'],
    ['और इसकी वैधता कितनी है?', proPlanHindi, 'hi', 'और इसकी वैधता कितनी है? प्रो प्लान'],
    ['aur uska price?', proPlanRomanised, 'hi', 'aur uska price? Pro plan'],
    ['iski validity kitni hai?', proPlanRomanised, 'hi', 'iski validity kitni hai? Pro plan'],
  ] as const)('%s -> %s', (question, history, language, query) => {
    expect(rewriteFollowUp(question, history, language)).toEqual({ query, rewritten: true });
  });

  it.each([
    'What is the refund policy?',
    'How do I reset my password on the mobile app?',
    'Which plans include priority support for teams that need SSO?',
    'Tell me about the Enterprise plan',
  ])('leaves the standalone question %j unchanged', (question) => {
    expect(rewriteFollowUp(question, proPlan, 'en')).toEqual({ query: question, rewritten: false });
  });

  it('leaves standalone Hindi questions unchanged', () => {
    const question = 'रिफंड नीति क्या है और पैसे कितने दिन में वापस मिलते हैं?';
    expect(rewriteFollowUp(question, proPlanHindi, 'hi').rewritten).toBe(false);
  });

  it('cannot rewrite without an earlier user question', () => {
    expect(rewriteFollowUp('and its price?', [], 'en')).toEqual({ query: 'and its price?', rewritten: false });
    const botOnly: HistoryTurn[] = [{ role: 'bot', text: 'Hello! How can I help you today?' }];
    expect(rewriteFollowUp('and its price?', botOnly, 'en').rewritten).toBe(false);
  });

  it('ignores the question itself when history already ends with it', () => {
    const history: HistoryTurn[] = [...proPlan, { role: 'user', text: 'and its price?' }];
    expect(rewriteFollowUp('and its price?', history, 'en').query).toBe('and its price? Pro plan');
  });

  it('looks past earlier follow-ups and greetings to the subject', () => {
    const history: HistoryTurn[] = [
      { role: 'user', text: 'hi' },
      { role: 'bot', text: 'Hello! How can I help you today?' },
      ...proPlan,
      { role: 'user', text: 'and its price?' },
      { role: 'bot', text: '20 dollars a month.' },
      { role: 'user', text: 'thanks' },
      { role: 'bot', text: "You're welcome!" },
    ];
    expect(rewriteFollowUp('what about delivery?', history, 'en').query).toBe('what about delivery? Pro plan');
  });

  it('uses the most recent subject', () => {
    const history: HistoryTurn[] = [...proPlan, { role: 'user', text: 'Tell me about the Enterprise plan' }];
    expect(rewriteFollowUp('and its price?', history, 'en').query).toBe('and its price? Enterprise plan');
  });

  it('does not repeat words the question already has', () => {
    expect(rewriteFollowUp('and the plan price?', proPlan, 'en').query).toBe('and the plan price? Pro');
  });

  it('appends at most six context words', () => {
    const history: HistoryTurn[] = [
      { role: 'user', text: 'Compare warranty coverage, battery life, camera quality, display brightness, storage and weight' },
    ];
    const { query } = rewriteFollowUp('and the price?', history, 'en');
    expect(query.split(' ').length).toBe(3 + 6);
  });

  it('reads romanised markers only for Hindi', () => {
    expect(isFollowUp('ye plan kitne ka hai', 'hi')).toBe(true);
    expect(isFollowUp('to whom should I write for a refund', 'en')).toBe(false);
  });

  it('does not treat greetings and thanks as follow-ups', () => {
    expect(rewriteFollowUp('thanks', proPlan, 'en').rewritten).toBe(false);
    expect(rewriteFollowUp('नमस्ते', proPlanHindi, 'hi').rewritten).toBe(false);
  });
});

describe('salientWords', () => {
  it('keeps content words in their original form', () => {
    expect(salientWords('Tell me about the Pro plan, please')).toEqual(['Pro', 'plan']);
    expect(salientWords('मुझे प्रो प्लान के बारे में बताओ')).toEqual(['प्रो', 'प्लान']);
    expect(salientWords('mujhe Pro plan ke baare mein batao')).toEqual(['Pro', 'plan']);
    expect(salientWords('What are the main features of the Pro plan?')).toEqual(['main', 'features', 'Pro', 'plan']);
  });
});
