import { describe, expect, it } from 'vitest';
import type { AutoReplyKind } from './auto-reply.ts';
import { detectAutoReply } from './auto-reply.ts';

type Row = [text: string, language: 'en' | 'hi', kind: AutoReplyKind];

const DEVANAGARI = /\p{Script=Devanagari}/u;

describe('detectAutoReply', () => {
  const matches: Row[] = [
    // English greetings.
    ['hi', 'en', 'greeting'],
    ['Hi!', 'en', 'greeting'],
    ['hello there', 'en', 'greeting'],
    ['Hey 👋', 'en', 'greeting'],
    ['hiiii', 'en', 'greeting'],
    ['Good morning', 'en', 'greeting'],
    ['good evening sir', 'en', 'greeting'],
    ['Hello, how are you?', 'en', 'greeting'],
    // English thanks.
    ['thanks a lot', 'en', 'thanks'],
    ['thank you!', 'en', 'thanks'],
    ['Thank you so much for the help 🙏', 'en', 'thanks'],
    ['thx bro', 'en', 'thanks'],
    ['great, thanks', 'en', 'thanks'],
    ['ok thanks', 'en', 'thanks'],
    // English confirmations.
    ['ok', 'en', 'confirmation'],
    ['OK.', 'en', 'confirmation'],
    ['okay', 'en', 'confirmation'],
    ['okkk', 'en', 'confirmation'],
    ['got it', 'en', 'confirmation'],
    ['sure', 'en', 'confirmation'],
    ['Alright, sounds good!', 'en', 'confirmation'],
    ['yes', 'en', 'confirmation'],
    // Hindi in Devanagari.
    ['नमस्ते', 'hi', 'greeting'],
    ['नमस्ते जी 🙏', 'hi', 'greeting'],
    ['धन्यवाद', 'hi', 'thanks'],
    ['बहुत बहुत धन्यवाद!', 'hi', 'thanks'],
    ['आपका धन्यवाद', 'hi', 'thanks'],
    ['शुक्रिया', 'hi', 'thanks'],
    ['ठीक है', 'hi', 'confirmation'],
    ['ठीक है।', 'hi', 'confirmation'],
    ['हाँ', 'hi', 'confirmation'],
    ['हां जी', 'hi', 'confirmation'],
    // Romanised Hindi.
    ['namaste', 'hi', 'greeting'],
    ['Namaskar ji', 'hi', 'greeting'],
    ['aap kaise ho', 'hi', 'greeting'],
    ['dhanyavaad', 'hi', 'thanks'],
    ['shukriya bhai', 'hi', 'thanks'],
    ['bahut dhanyawad', 'hi', 'thanks'],
    ['theek hai', 'hi', 'confirmation'],
    ['thik hai', 'hi', 'confirmation'],
    ['accha', 'hi', 'confirmation'],
    ['haan ji', 'hi', 'confirmation'],
  ];

  it.each(matches)('%s (%s) -> %s', (text, language, kind) => {
    const result = detectAutoReply(text, language);
    expect(result?.kind).toBe(kind);
    expect(result?.reply).toBeTruthy();
  });

  const nonMatches: string[] = [
    'hi, what is the refund policy?',
    'thanks, and what about shipping?',
    'hello I need help with my order',
    'ok so how do I cancel',
    'ok?',
    'thanks?',
    'what is the price?',
    'good product',
    'The main point is clear',
    'नमस्ते, रिफंड नीति क्या है?',
    'धन्यवाद, डिलीवरी कब होगी?',
    'theek hai, mujhe price batao',
    'namaste, refund kaise milega',
    '',
    '   ',
    '🙏',
    '?',
  ];

  it.each(nonMatches)('%j is left to the pipeline', (text) => {
    expect(detectAutoReply(text, 'en')).toBeUndefined();
    expect(detectAutoReply(text, 'hi')).toBeUndefined();
  });

  it("replies in the user's language, Hindi in Devanagari", () => {
    for (const kind of ['namaste', 'dhanyavaad', 'theek hai', 'नमस्ते', 'धन्यवाद', 'ठीक है']) {
      const reply = detectAutoReply(kind, 'hi')?.reply ?? '';
      expect(reply).toMatch(DEVANAGARI);
      expect(reply).not.toMatch(/[a-z]/i);
    }
    for (const kind of ['hello', 'thanks', 'ok']) {
      expect(detectAutoReply(kind, 'en')?.reply).toMatch(/^[\x20-\x7E]+$/);
    }
  });

  it('greets in the name of the organisation', () => {
    expect(detectAutoReply('hello', 'en', { organisationName: 'Acme Telecom' })?.reply).toBe(
      'Hello! Welcome to Acme Telecom. How can I help you today?',
    );
    expect(detectAutoReply('नमस्ते', 'hi', { organisationName: 'Acme Telecom' })?.reply).toContain('Acme Telecom में आपका स्वागत है');
    expect(detectAutoReply('hello', 'en', { organisationName: '  ' })?.reply).toBe('Hello! How can I help you today?');
    expect(detectAutoReply('thanks', 'en', { organisationName: 'Acme' })?.reply).not.toContain('Acme');
  });
});
