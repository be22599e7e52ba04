import { franc } from 'franc';
import { AMBIGUOUS_ROMANISED_HINDI, ROMANISED_HINDI } from './romanised-hindi.ts';
import { STOPWORDS_EN, STOPWORDS_HI } from './stopwords.ts';
import { tokenize } from './tokenizer.ts';

export type SupportedLanguage = 'en' | 'hi';
export type Script = 'latin' | 'devanagari' | 'mixed';

export interface LanguageDetection {
  /** The language to answer in. Romanised Hindi answers in Hindi. */
  language: SupportedLanguage;
  script: Script;
  /** Latin-script text that reads as Hindi ("mujhe price batao"). */
  romanisedHindi: boolean;
  /** 0..1: 1 for a selected language, 0 when the text has no words at all. */
  confidence: number;
}

/** Share of a message's Latin words that must be romanised Hindi for it to count as such. */
export const ROMANISED_HINDI_SHARE = 0.3;
/** A script under this share of the letters does not make the text mixed. */
const MIXED_SCRIPT_SHARE = 0.1;
/** franc restricted to our two languages only votes on text at least this many letters long. */
const FRANC_MIN_LETTERS = 40;
/** franc's vote, as a share of the evidence from the words. */
const FRANC_WEIGHT = 0.25;

const LANGUAGE_NAMES: Readonly<Record<string, SupportedLanguage>> = {
  en: 'en',
  eng: 'en',
  english: 'en',
  hi: 'hi',
  hin: 'hi',
  hindi: 'hi',
  हिंदी: 'hi',
  हिन्दी: 'hi',
};

/** Maps a client's language choice ("EN", "hi-IN", "hindi") to a supported language, if it is one. */
export function normalizeLanguage(selected: string | undefined): SupportedLanguage | undefined {
  const primary = selected
    ?.trim()
    .normalize('NFC')
    .toLowerCase()
    .split(/[-_\s]/)[0];
  return primary ? LANGUAGE_NAMES[primary] : undefined;
}

const DEVANAGARI = /\p{Script=Devanagari}/u;
const LATIN = /\p{Script=Latin}/u;
const LETTER_OR_MARK = /[\p{L}\p{M}]/u;

/**
 * Decides between English and Hindi, holding on short text. A selected language
 * ('en' or 'hi' in any usual spelling) wins. Otherwise the words vote:
 * - Devanagari words count for Hindi (function words such as है, के double);
 * - Latin words count as romanised Hindi when enough of them are in the
 *   romanised-Hindi lexicon (`ROMANISED_HINDI_SHARE`), otherwise for English,
 *   English function words strongly and other words weakly (code-mixed Hindi
 *   borrows English nouns: "मुझे price बताओ" is Hindi);
 * - on longer text, franc restricted to eng/hin adds a vote. It is left out of
 *   short text, which it misreads, and of romanised Hindi, which it always reads
 *   as English.
 */
export function detectLanguage(text: string, selected?: string): LanguageDetection {
  const tokens = tokenize(text);
  const script = detectScript(text);
  const latinTokens = tokens.filter((token) => LATIN.test(token));
  const romanised = romanisedHindiSignal(latinTokens);

  const chosen = normalizeLanguage(selected);
  if (chosen) return { language: chosen, script: script.script, romanisedHindi: romanised.isRomanised, confidence: 1 };

  let hindi = 0;
  let english = 0;
  for (const token of tokens) {
    if (DEVANAGARI.test(token)) {
      hindi += STOPWORDS_HI.has(token) ? 3 : 2;
    } else if (LATIN.test(token)) {
      if (romanised.isRomanised && romanised.hindiWords.has(token)) hindi += 2;
      else english += STOPWORDS_EN.has(token) ? 2 : 0.5;
    }
  }

  const evidence = hindi + english;
  if (evidence === 0) return { language: 'en', script: script.script, romanisedHindi: false, confidence: 0 };

  if (script.letters >= FRANC_MIN_LETTERS && !romanised.isRomanised) {
    const guess = franc(text, { only: ['eng', 'hin'] });
    if (guess === 'hin') hindi += FRANC_WEIGHT * evidence;
    if (guess === 'eng') english += FRANC_WEIGHT * evidence;
  }

  const language: SupportedLanguage = hindi === english ? (script.devanagariShare > 0.5 ? 'hi' : 'en') : hindi > english ? 'hi' : 'en';
  // Margin between the votes, damped when there is little evidence ("hi", "ok").
  const margin = Math.abs(hindi - english) / (hindi + english);
  const confidence = 0.5 + 0.5 * margin * Math.min(1, evidence / 3);
  return {
    language,
    script: script.script,
    romanisedHindi: romanised.isRomanised,
    confidence: Math.round(confidence * 100) / 100,
  };
}

interface ScriptShares {
  script: Script;
  letters: number;
  devanagariShare: number;
}

/** The script by share of letters (Devanagari counting its combining marks). */
export function detectScript(text: string): ScriptShares {
  let devanagari = 0;
  let latin = 0;
  for (const char of text.normalize('NFC')) {
    if (!LETTER_OR_MARK.test(char)) continue;
    if (DEVANAGARI.test(char)) devanagari += 1;
    else if (LATIN.test(char)) latin += 1;
  }
  const letters = devanagari + latin;
  const devanagariShare = letters === 0 ? 0 : devanagari / letters;
  const script: Script =
    devanagariShare >= 1 - MIXED_SCRIPT_SHARE && letters > 0 ? 'devanagari' : devanagariShare > MIXED_SCRIPT_SHARE ? 'mixed' : 'latin';
  return { script, letters, devanagariShare };
}

interface RomanisedSignal {
  isRomanised: boolean;
  /** The Latin tokens read as Hindi words. */
  hindiWords: ReadonlySet<string>;
}

/**
 * Romanised Hindi when at least one unambiguous lexicon word is present and
 * lexicon words (ambiguous ones included) make up `ROMANISED_HINDI_SHARE` of
 * the Latin words. One Hindi word in an English sentence ("What does namaste
 * mean?") stays English.
 */
export function romanisedHindiSignal(latinTokens: readonly string[]): RomanisedSignal {
  const strong = latinTokens.filter((token) => ROMANISED_HINDI.has(token));
  if (strong.length === 0) return { isRomanised: false, hindiWords: new Set() };
  const hindiWords = new Set(latinTokens.filter((token) => ROMANISED_HINDI.has(token) || AMBIGUOUS_ROMANISED_HINDI.has(token)));
  const count = latinTokens.filter((token) => hindiWords.has(token)).length;
  return { isRomanised: count / latinTokens.length >= ROMANISED_HINDI_SHARE, hindiWords };
}
