import { describe, expect, it } from 'vitest';
import { stemHindi } from './hindi-stemmer.ts';
import { contentTokens, STOPWORDS_EN, STOPWORDS_HI, stemToken, tokenize } from './tokenizer.ts';

describe('tokenize', () => {
  it('keeps Devanagari words whole, matras and virama included, and drops the danda', () => {
    expect(tokenize('भारत की राजधानी नई दिल्ली है।')).toEqual(['भारत', 'की', 'राजधानी', 'नई', 'दिल्ली', 'है']);
    expect(tokenize('क्षेत्र॥ श्रीमान्, प्रश्न।')).toEqual(['क्षेत्र', 'श्रीमान्', 'प्रश्न']);
  });

  it('keeps anusvara, chandrabindu and nukta inside the word', () => {
    expect(tokenize('हाँ, हां! ज़रूर')).toEqual(['हाँ', 'हां', 'ज़रूर']);
  });

  it('normalises to NFC, so that composed and decomposed spellings match', () => {
    const decomposed = 'ज़रूर'.normalize('NFD');
    expect(tokenize(decomposed)).toEqual(tokenize('ज़रूर'.normalize('NFC')));
    expect(tokenize('Cafe\u0301')).toEqual(['café']);
  });

  it('removes zero-width joiners instead of splitting on them', () => {
    expect(tokenize('क्\u200Dष दिल्\u200Cली')).toEqual(['क्ष', 'दिल्ली']);
  });

  it('lower-cases and drops punctuation', () => {
    expect(tokenize('Hello, World! (Pro-plan) "quoted" — done…')).toEqual(['hello', 'world', 'pro', 'plan', 'quoted', 'done']);
  });

  it('splits mixed-script text into words of each script', () => {
    expect(tokenize('मुझे Pro plan की price बताओ।')).toEqual(['मुझे', 'pro', 'plan', 'की', 'price', 'बताओ']);
  });

  it('keeps numbers, decimals and Devanagari digits', () => {
    expect(tokenize('In 1947, 3.5 lakh people paid ₹1,000 (२०२४).')).toEqual([
      'in',
      '1947',
      '3.5',
      'lakh',
      'people',
      'paid',
      '1000',
      '2024',
    ]);
    expect(tokenize('सन् १९४७ में')).toEqual(['सन्', '1947', 'में']);
    expect(tokenize('4g, mp3 and the year 2019.')).toEqual(['4g', 'mp3', 'and', 'the', 'year', '2019']);
  });

  it('returns nothing for empty or punctuation-only text', () => {
    expect(tokenize('')).toEqual([]);
    expect(tokenize(' ।॥?! 👍 ')).toEqual([]);
  });
});

describe('contentTokens', () => {
  it('drops English and Hindi stopwords', () => {
    expect(contentTokens('What is the capital of India?')).toEqual(['capital', 'india']);
    expect(contentTokens('भारत की राजधानी नई दिल्ली है।')).toEqual(['भारत', 'राजधानी', 'नई', 'दिल्ली']);
  });

  it('stems on request, each script with its own stemmer', () => {
    expect(contentTokens('running refunds were processed', { stem: true })).toEqual(['run', 'refund', 'process']);
    expect(contentTokens('किताबें और किताबों', { stem: true })).toEqual(['किताब', 'किताब']);
  });
});

describe('stopword lists', () => {
  it('hold the usual function words in the tokenizer’s form', () => {
    for (const word of ['the', 'is', 'what', 'and', 's', 't']) expect(STOPWORDS_EN.has(word)).toBe(true);
    for (const word of ['है', 'के', 'की', 'का', 'में', 'से', 'और', 'को', 'पर', 'यह', 'वह', 'था', 'थे', 'थी', 'हैं', 'एक', 'भी', 'तो', 'ही']) {
      expect(STOPWORDS_HI.has(word)).toBe(true);
    }
    for (const word of STOPWORDS_HI) expect(tokenize(word)).toEqual([word]);
  });
});

describe('stemming', () => {
  it('uses Porter for Latin words and leaves numbers alone', () => {
    expect(stemToken('connections')).toBe('connect');
    expect(stemToken('1947')).toBe('1947');
  });

  it.each([
    ['किताबें', 'किताब'],
    ['लड़कियाँ', 'लडक'],
    ['लड़कियों', 'लडक'],
    ['जाएंगे', 'जा'],
    ['खेलना', 'खेल'],
    ['भारत', 'भारत'],
    ['हाँ', 'हां'],
    ['का', 'का'],
  ])('light Hindi stemmer: %s -> %s', (word, stem) => {
    expect(stemHindi(word)).toBe(stem);
  });
});
