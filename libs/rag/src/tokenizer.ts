import { stemmer } from 'stemmer';
import { stemHindi } from './hindi-stemmer.ts';
import { STOPWORDS_EN, STOPWORDS_HI } from './stopwords.ts';

export { STOPWORDS_EN, STOPWORDS_HI } from './stopwords.ts';

// A word is letters, combining marks and digits: \p{M} keeps Devanagari matras,
// virama and anusvara inside the word (a \w or \p{L}-only tokenizer splits
// "दिल्ली" into pieces). Numbers keep their decimal point ("3.5"); grouping
// commas are dropped below so that "1,000" and "1000" match. Anything else,
// punctuation, the danda (।, ॥) included, separates words.
const WORD = /\p{N}+(?:[.,]\p{N}+)+|[\p{L}\p{M}\p{N}]+/gu;

// Invisible format characters that occur inside words (zero-width joiner and
// non-joiner shape Devanagari conjuncts; soft hyphen; word joiner; BOM).
// Removed, not treated as separators, so that they do not split a word.
const INVISIBLE = /[\u00AD\u200B-\u200D\u2060\uFEFF]/g;

const DEVANAGARI_DIGIT = /[\u0966-\u096F]/g;
const LATIN_WORD = /^[a-z]+$/;
const DEVANAGARI = /\p{Script=Devanagari}/u;

/** Normalises text the way the tokenizer sees it: NFC, lower case, no invisible characters. */
export function normalizeText(text: string): string {
  return text.normalize('NFC').replace(INVISIBLE, '').toLowerCase();
}

/**
 * Splits text into lower-case word tokens, Unicode-aware: Latin and Devanagari
 * words, and numbers (Devanagari digits as ASCII digits, so that १९४७ matches
 * 1947). Drops punctuation.
 */
export function tokenize(text: string): string[] {
  const normalized = normalizeText(text).replace(DEVANAGARI_DIGIT, (digit) => String(digit.charCodeAt(0) - 0x0966));
  const tokens: string[] = [];
  for (const match of normalized.matchAll(WORD)) {
    const token = match[0];
    tokens.push(token.includes(',') ? token.replace(/,/g, '') : token);
  }
  return tokens;
}

export function isStopword(token: string): boolean {
  return STOPWORDS_EN.has(token) || STOPWORDS_HI.has(token);
}

/**
 * Reduces a token to its stem: Porter for ASCII-Latin words, the light Hindi
 * stemmer for Devanagari words; other tokens (numbers, other scripts) as they are.
 */
export function stemToken(token: string): string {
  if (LATIN_WORD.test(token)) return stemmer(token);
  if (DEVANAGARI.test(token)) return stemHindi(token);
  return token;
}

export interface ContentTokenOptions {
  /** Stem each token (see `stemToken`); off by default. */
  stem?: boolean;
}

/** The tokens of `text` that carry meaning: stopwords removed, optionally stemmed. */
export function contentTokens(text: string, options: ContentTokenOptions = {}): string[] {
  const tokens = tokenize(text).filter((token) => !isStopword(token));
  return options.stem ? tokens.map(stemToken) : tokens;
}
