// Light Hindi stemmer: strips the longest inflectional suffix from the list of
// Ramanathan and Rao, "A Lightweight Stemmer for Hindi" (2003), the same
// algorithm as Lucene's HindiStemmer. It conflates plural/oblique/verb forms
// (किताबें, किताबों -> किताब) without a dictionary, which is what keyword
// ranking needs; it is not a morphological analyser.

// Suffixes grouped by length; a suffix is stripped only when the stem left is
// at least two characters, as in the paper.
const SUFFIXES: readonly (readonly string[])[] = [
  ['ाएंगी', 'ाएंगे', 'ाऊंगी', 'ाऊंगा', 'ाइयां', 'ाइयों'],
  ['ाएगी', 'ाएगा', 'ाओगी', 'ाओगे', 'एंगी', 'ेंगी', 'एंगे', 'ेंगे', 'ूंगी', 'ूंगा', 'ातीं', 'नाओं', 'नाएं', 'ताओं', 'ताएं', 'ियां', 'ियों'],
  ['ाकर', 'ाइए', 'ाईं', 'ाया', 'ेगी', 'ेगा', 'ोगी', 'ोगे', 'ाने', 'ाना', 'ाते', 'ाती', 'ाता', 'तीं', 'ाओं', 'ाएं', 'ुओं', 'ुएं', 'ुआं'],
  ['कर', 'ाओ', 'िए', 'ाई', 'ाए', 'ने', 'नी', 'ना', 'ते', 'ीं', 'ती', 'ता', 'ां', 'ों', 'ें'],
  ['ो', 'े', 'ू', 'ु', 'ी', 'ि', 'ा'],
];

/**
 * Spelling variants that Hindi writers use interchangeably: nukta letters
 * (ज़ / ज), chandrabindu and anusvara (हाँ / हां). Folded before stemming so
 * that either spelling matches the other. Input must be NFC.
 */
export function foldHindi(token: string): string {
  return token
    .normalize('NFD')
    .replace(/\u093C/g, '') // nukta
    .replace(/\u0901/g, '\u0902') // chandrabindu -> anusvara
    .normalize('NFC');
}

/** Folds, then strips one inflectional suffix (see the file comment). */
export function stemHindi(token: string): string {
  const word = foldHindi(token);
  for (const group of SUFFIXES) {
    for (const suffix of group) {
      if (word.length > suffix.length + 1 && word.endsWith(suffix)) return word.slice(0, -suffix.length);
    }
  }
  return word;
}
