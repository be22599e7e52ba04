// Folding of Devanagari spelling variants for matching, applied after the
// shared tokenizer's stemming. Hindi writers (and translators transliterating
// foreign names) spell the same word several ways:
// - a nasal consonant with virama before a consonant or the anusvara:
//   इन्टरसेप्शन / इंटरसेप्शन, डिफ़ेन्स / डिफ़ेंस;
// - long and short i/u vowels: पूरे / पुरे, क्युचली / क्यूचली;
// - the candra o of English loanwords: कॉर्नर / कोर्नर.
// Folding loses distinctions (दिन and दीन meet), which costs little in
// ranking and matching and gains recall; Latin words and numbers are unchanged.

const NASAL_BEFORE_CONSONANT = /[ङञणनम]\u094D(?=[\u0915-\u0939\u0958-\u095F])/g;
const VOWEL_FOLDS: Readonly<Record<string, string>> = {
  '\u0940': '\u093F', // ी -> ि
  '\u0942': '\u0941', // ू -> ु
  '\u0908': '\u0907', // ई -> इ
  '\u090A': '\u0909', // ऊ -> उ
  '\u0949': '\u094B', // ॉ -> ो
  '\u0911': '\u0913', // ऑ -> ओ
  '\u0945': '\u0947', // ॅ -> े
};
const FOLDABLE_VOWELS = /[\u0940\u0942\u0908\u090A\u0949\u0911\u0945]/g;
const DEVANAGARI = /[\u0900-\u097F]/;

export function foldSpelling(token: string): string {
  if (!DEVANAGARI.test(token)) return token;
  return token.replace(NASAL_BEFORE_CONSONANT, '\u0902').replace(FOLDABLE_VOWELS, (vowel) => VOWEL_FOLDS[vowel] ?? vowel);
}
