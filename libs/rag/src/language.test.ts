import { describe, expect, it } from 'vitest';
import { detectLanguage, normalizeLanguage } from './language.ts';

type Row = [text: string, language: 'en' | 'hi', script: 'latin' | 'devanagari' | 'mixed', romanised: boolean];

describe('detectLanguage', () => {
  const rows: Row[] = [
    // Short English, which franc alone cannot read.
    ['hi', 'en', 'latin', false],
    ['ok', 'en', 'latin', false],
    ['OK!', 'en', 'latin', false],
    ['thanks', 'en', 'latin', false],
    ['what is the price?', 'en', 'latin', false],
    ['Tell me about the Pro plan', 'en', 'latin', false],
    // English sentences.
    ['How long does delivery take to Mumbai and what does it cost?', 'en', 'latin', false],
    ['The refund policy allows returns within thirty days of purchase, provided the item is unused.', 'en', 'latin', false],
    // English words that look like romanised Hindi stay English.
    ['I have a car', 'en', 'latin', false],
    ['the main point', 'en', 'latin', false],
    ['Is it ok to pay by card?', 'en', 'latin', false],
    ['What does namaste mean?', 'en', 'latin', false],
    // Devanagari Hindi.
    ['नमस्ते', 'hi', 'devanagari', false],
    ['भारत की राजधानी नई दिल्ली है।', 'hi', 'devanagari', false],
    ['धन्यवाद', 'hi', 'devanagari', false],
    ['रिफंड नीति क्या है?', 'hi', 'devanagari', false],
    // Romanised Hindi answers in Hindi.
    ['namaste', 'hi', 'latin', true],
    ['dhanyavaad', 'hi', 'latin', true],
    ['shukriya', 'hi', 'latin', true],
    ['theek hai', 'hi', 'latin', true],
    ['mujhe price batao', 'hi', 'latin', true],
    ['aap kaise ho', 'hi', 'latin', true],
    ['aur uska price?', 'hi', 'latin', true],
    ['refund policy kya hai', 'hi', 'latin', true],
    ['main theek hoon, aap batao mera order kab aayega', 'hi', 'latin', true],
    // Mixed scripts: the grammar decides.
    ['मुझे price बताओ', 'hi', 'mixed', false],
    ['refund policy और shipping policy बताओ', 'hi', 'mixed', false],
    ['What does नमस्ते mean in English?', 'en', 'mixed', false],
  ];

  it.each(rows)('%s -> %s (%s, romanised %s)', (text, language, script, romanised) => {
    const result = detectLanguage(text);
    expect(result.language).toBe(language);
    expect(result.script).toBe(script);
    expect(result.romanisedHindi).toBe(romanised);
    expect(result.confidence).toBeGreaterThan(0.5);
    expect(result.confidence).toBeLessThanOrEqual(1);
  });

  it('lets a selected language win, in any usual spelling', () => {
    expect(detectLanguage('what is the price?', 'hi')).toMatchObject({ language: 'hi', confidence: 1 });
    expect(detectLanguage('नमस्ते', 'EN')).toMatchObject({ language: 'en', script: 'devanagari' });
    expect(detectLanguage('hello', 'hi-IN').language).toBe('hi');
    expect(detectLanguage('नमस्ते', 'english').language).toBe('en');
    expect(detectLanguage('mujhe price batao', 'en')).toMatchObject({ language: 'en', romanisedHindi: true });
  });

  it('ignores a selected language it does not support', () => {
    expect(detectLanguage('नमस्ते', 'fr').language).toBe('hi');
    expect(detectLanguage('hello', '').language).toBe('en');
  });

  it('is unsure, not wrong, when there are no words', () => {
    for (const text of ['', '   ', '👍', '?!', '12']) {
      expect(detectLanguage(text)).toMatchObject({ language: 'en', confidence: 0 });
    }
  });

  it('is less sure of one short word than of a sentence', () => {
    expect(detectLanguage('hi').confidence).toBeLessThan(detectLanguage('what is the price of the plan?').confidence);
  });
});

describe('normalizeLanguage', () => {
  it.each([
    ['en', 'en'],
    ['EN', 'en'],
    ['en-US', 'en'],
    ['English', 'en'],
    ['hi', 'hi'],
    ['hi-IN', 'hi'],
    ['hi_IN', 'hi'],
    ['Hindi', 'hi'],
    ['हिंदी', 'hi'],
    ['fr', undefined],
    [undefined, undefined],
  ] as const)('%s -> %s', (input, expected) => {
    expect(normalizeLanguage(input)).toBe(expected);
  });
});
