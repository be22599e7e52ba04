import { normalizeText, tokenize } from '../tokenizer.ts';

/** What kind of phrase a question asks for, read from its question words. */
export type AnswerType = 'date' | 'number' | 'person' | 'place' | 'other';

// Question words, English (patterns) and Hindi (phrases matched on whole
// tokens, since Hindi puts the question word anywhere and "कब" must not match
// inside "कबीर"). Checked in order: "in what year" is a date although it
// starts like an open "what" question; "how many" is a number.
const QUESTION_WORDS: readonly { type: AnswerType; en: RegExp; hi: readonly string[] }[] = [
  {
    type: 'date',
    en: /\b(?:when|(?:what|which) (?:year|date|day|month|century|decade|time period)|how long ago)\b/,
    hi: [
      'कब',
      ...['किस', 'कौन से', 'कौन सी', 'कौन सा'].flatMap((which) =>
        ['वर्ष', 'साल', 'सन', 'तारीख', 'तिथि', 'दिन', 'महीने', 'माह', 'सदी', 'शताब्दी', 'दशक', 'समय'].map((unit) => `${which} ${unit}`),
      ),
    ],
  },
  {
    type: 'number',
    en: /\bhow (?:many|much|long|old|far|large|big|tall|high|often|fast|heavy|wide|deep)\b|\bwhat (?:percentage|percent|proportion|number|amount|fraction|size|height|length|distance|speed|temperature)\b/,
    hi: ['कितना', 'कितने', 'कितनी', 'कितनों'],
  },
  {
    type: 'person',
    en: /\b(?:who|whom|whose)\b/,
    // Not "कौन सा/सी/से" (which ...) nor "किसका/किसके" (of what ...): those ask for things as often as people.
    hi: ['कौन', 'किसने', 'किसको', 'किसे', 'किन्होंने', 'किन्हें'],
  },
  {
    type: 'place',
    en: /\bwhere\b|\b(?:what|which) (?:city|country|state|place|town|region|continent|island|river|area|county|province|location|nation)\b/,
    hi: [
      'कहाँ',
      'कहां',
      ...['शहर', 'देश', 'राज्य', 'जगह', 'स्थान', 'क्षेत्र', 'द्वीप', 'नदी', 'महाद्वीप', 'प्रांत', 'नगर'].map((place) => `किस ${place}`),
    ],
  },
];

/** "कौन सा/सी/से ..." is "which ...": it names its own kind of answer. */
const WHICH = /^ कौन (?:सा|सी|से) /;

export function answerTypeOf(question: string): AnswerType {
  const text = normalizeText(question);
  const tokens = ` ${tokenize(question).join(' ')} `;
  for (const { type, en, hi } of QUESTION_WORDS) {
    const asked = (phrase: string) =>
      tokens.includes(` ${phrase} `) && !(phrase === 'कौन' && WHICH.test(tokens.slice(tokens.indexOf(' कौन '))));
    if (en.test(text) || hi.some(asked)) return type;
  }
  return 'other';
}

const MONTHS = new Set(
  `january february march april may june july august september october november december jan feb mar apr jun jul aug
  sep sept oct nov dec जनवरी फरवरी फ़रवरी मार्च अप्रैल मई जून जुलाई अगस्त सितंबर सितम्बर अक्टूबर अक्तूबर नवंबर नवम्बर दिसंबर दिसम्बर`
    .split(/\s+/)
    .filter(Boolean),
);
const DATE_WORDS = new Set('century centuries decade bc bce ad ce शताब्दी सदी दशक ईसा ई ईस्वी ईसवी वर्ष साल सन'.split(' '));
const NUMBER_WORDS = new Set(
  `one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen seventeen eighteen
  nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred hundreds thousand thousands million millions
  billion billions trillion dozen dozens half quarter twice thrice percent single double triple
  एक दो तीन चार पांच पाँच छह छः सात आठ नौ दस ग्यारह बारह बीस तीस चालीस पचास सौ सैकड़ों हज़ार हजार हज़ारों हजारों लाख करोड़ अरब
  दर्जन आधा आधी प्रतिशत दोगुना`
    .split(/\s+/)
    .filter(Boolean),
);
// Hindi postpositions that follow a place ("दिल्ली में", "भारत से") or an agent ("टेस्ला ने").
const PLACE_POSTPOSITIONS = new Set(['में', 'से', 'पर', 'तक']);
const PLACE_PREPOSITIONS = new Set(['in', 'at', 'from', 'near', 'to', 'into', 'across', 'throughout']);
const YEAR = /^(?:1\d{3}|20\d{2})(?:s)?$/;
const DIGITS = /\d/;
const LATIN_CAPITALISED = /^\p{Lu}[\p{Ll}\p{M}]+/u;

/**
 * Evidence in a sentence that it contains an answer of the given type, taking
 * only words that are not in the question (a question about 1856 is not
 * answered by repeating 1856). 0 = none, 1 = clear.
 */
export function answerTypeEvidence(type: AnswerType, sentence: string, questionTokens: ReadonlySet<string>): number {
  if (type === 'other') return 0;
  const tokens = tokenize(sentence);
  const fresh = (token: string) => !questionTokens.has(token);
  switch (type) {
    case 'date': {
      if (tokens.some((t) => YEAR.test(t) && fresh(t))) return 1;
      if (tokens.some((t) => MONTHS.has(t) && fresh(t))) return 1;
      const hasNumber = tokens.some((t) => DIGITS.test(t) && fresh(t));
      return hasNumber && tokens.some((t) => DATE_WORDS.has(t)) ? 0.8 : hasNumber ? 0.4 : 0;
    }
    case 'number':
      if (tokens.some((t) => DIGITS.test(t) && !YEAR.test(t) && fresh(t))) return 1;
      return tokens.some((t) => (NUMBER_WORDS.has(t) || DIGITS.test(t)) && fresh(t)) ? 0.6 : 0;
    case 'person':
      return namedEntityEvidence(sentence, tokens, questionTokens, ['ने', 'द्वारा']);
    case 'place': {
      const words = sentence.split(/\s+/);
      for (let i = 1; i < words.length; i += 1) {
        const word = (words[i] ?? '').replace(/[^\p{L}\p{M}]/gu, '');
        const previous = normalizeText((words[i - 1] ?? '').replace(/[^\p{L}]/gu, ''));
        if (LATIN_CAPITALISED.test(word) && PLACE_PREPOSITIONS.has(previous) && fresh(normalizeText(word))) return 1;
      }
      return Math.max(namedEntityEvidence(sentence, tokens, questionTokens, [...PLACE_POSTPOSITIONS]) * 0.8, 0);
    }
  }
}

/**
 * Names: in Latin script, capitalised words other than the sentence's first;
 * in Devanagari, which has no capitals, a word the question does not contain
 * right before a marker postposition (the agent marker ने for "who", place
 * postpositions for "where").
 */
function namedEntityEvidence(
  sentence: string,
  tokens: readonly string[],
  questionTokens: ReadonlySet<string>,
  markers: readonly string[],
): number {
  const words = sentence.split(/\s+/).map((word) => word.replace(/[^\p{L}\p{M}\p{N}]/gu, ''));
  for (let i = 1; i < words.length; i += 1) {
    const word = words[i] ?? '';
    if (LATIN_CAPITALISED.test(word) && !questionTokens.has(normalizeText(word))) return 1;
  }
  for (let i = 1; i < tokens.length; i += 1) {
    const previous = tokens[i - 1] ?? '';
    if (markers.includes(tokens[i] ?? '') && /\p{Script=Devanagari}/u.test(previous) && !questionTokens.has(previous)) {
      return 0.7;
    }
  }
  return 0;
}
