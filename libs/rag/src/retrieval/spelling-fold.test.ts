import { describe, expect, it } from 'vitest';
import { stemToken, tokenize } from '../tokenizer.ts';
import { foldSpelling } from './spelling-fold.ts';

const key = (word: string) => foldSpelling(stemToken(tokenize(word)[0] ?? ''));

describe('foldSpelling', () => {
  it.each([
    ['इन्टरसेप्शन', 'इंटरसेप्शन'],
    ['डिफ़ेन्स', 'डिफ़ेंस'],
    ['पूरे', 'पुरे'],
    ['क्यूचली', 'क्युचली'],
    ['कॉर्नर', 'कोर्नर'],
    ['ईसाई', 'इसाई'],
  ])('%s and %s meet', (a, b) => {
    expect(key(a)).toBe(key(b));
  });

  it('leaves distinct words, Latin words and numbers apart', () => {
    expect(key('दिल्ली')).not.toBe(key('मुंबई'));
    expect(foldSpelling('interception')).toBe('interception');
    expect(foldSpelling('1856')).toBe('1856');
    // A nasal consonant before a vowel is a consonant, not a nasalisation.
    expect(foldSpelling('नमक')).toBe('नमक');
  });
});
