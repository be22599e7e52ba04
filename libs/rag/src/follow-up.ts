import { detectAutoReply } from './auto-reply.ts';
import type { SupportedLanguage } from './language.ts';
import { romanisedHindiSignal } from './language.ts';
import { AMBIGUOUS_ROMANISED_HINDI, ROMANISED_HINDI } from './romanised-hindi.ts';
import { isStopword, normalizeText, tokenize } from './tokenizer.ts';

export interface HistoryTurn {
  role: 'user' | 'bot';
  text: string;
}

export interface FollowUpRewrite {
  /** The query to retrieve with: the question itself, or the question plus context words. */
  query: string;
  rewritten: boolean;
}

/** How many earlier user turns are searched for the subject of a follow-up. */
const MAX_LOOKBACK = 3;
/** At most this many context words are appended, so that they do not drown the question. */
const MAX_CONTEXT_WORDS = 6;
/** A question of at most this many words ("price?", "delivery time?") is taken as a follow-up. */
const SHORT_QUESTION_WORDS = 2;

// A follow-up that opens with one of these continues the previous question.
const LEADING_MARKERS = phraseList(['and', 'also', 'plus', 'then', 'what about', 'how about', 'what of', 'same for', 'और', 'तो', 'फिर']);
const LEADING_MARKERS_ROMANISED = phraseList(['aur', 'to', 'toh', 'phir', 'fir']);

// Words that point back at something named earlier.
const PRONOUNS: ReadonlySet<string> = new Set(
  tokenize(
    `it its this these those they them their theirs he she him her his hers
    इसका उसका इसकी उसकी इसके उसके इसे उसे इसमें उसमें इसको उसको इससे उससे वह वो ये यह वे इनका उनका इनकी
    उनकी इनके उनके इन्हें उन्हें`,
  ),
);
const PRONOUNS_ROMANISED: ReadonlySet<string> = new Set(
  `iska uska iski uski iske uske isko usko isme ismein usme usmein isse usse woh wo voh vo ye yeh yah inka
  unka inki unki inke unke inhe unhe`.split(/\s+/),
);

// Request phrasing carries no subject ("Tell me about ...", "... के बारे में बताओ").
const REQUEST_WORDS: ReadonlySet<string> = new Set(
  tokenize(
    `tell explain know want please describe details detail information info show give need like let help
    बताओ बताइए बताइये बताएं बताएँ बतायें बताना बता बारे जानकारी चाहिए चाहता चाहती दीजिए दो कृपया जानना
    batao bataiye bataye batayein bata baare bare jaankari jankari chahiye kripya`,
  ),
);

/**
 * Turns a follow-up into a standalone retrieval query by a documented heuristic
 * (for when no LLM is configured to rewrite it):
 *
 * 1. The question is a follow-up when it opens with a continuation ("and",
 *    "also", "what about", "और", romanised "aur"), refers back with a pronoun
 *    ("it", "its", "they", "इसका", "उसकी", romanised "uska"; "that" only where it
 *    cannot be a relative pronoun), or is at most two words ("price?").
 * 2. Its subject is taken from the most recent earlier user question that is
 *    itself neither a follow-up nor a greeting/thanks (looking back at most
 *    three user turns; if all were follow-ups, the latest one with any words).
 *    Bot answers are not used: they are long and would swamp the query.
 * 3. That question's salient words (not stopwords, request words such as
 *    "tell", "बताओ", or romanised-Hindi function words), in their original
 *    form and not already in the question, are appended to the question, at
 *    most six: "and its price?" after "Tell me about the Pro plan" becomes
 *    "and its price? Pro plan".
 *
 * A standalone question, or one without usable history, comes back unchanged.
 * `history` is oldest first and need not include the question itself.
 * Romanised-Hindi markers ("to", "ye", "wo" are also English or ambiguous) are
 * only read when `language` is Hindi.
 */
export function rewriteFollowUp(question: string, history: readonly HistoryTurn[], language: SupportedLanguage): FollowUpRewrite {
  const unchanged = { query: question, rewritten: false };
  if (!isFollowUp(question, language)) return unchanged;

  const turns = history.filter((turn) => turn.role === 'user').map((turn) => turn.text);
  const last = history.at(-1);
  if (last?.role === 'user' && last.text.trim() === question.trim()) turns.pop();

  const subject = findSubject(turns.reverse().slice(0, MAX_LOOKBACK), language);
  if (!subject) return unchanged;

  const present = new Set(tokenize(question));
  const context = subject.filter((word) => !present.has(normalizeText(word))).slice(0, MAX_CONTEXT_WORDS);
  if (context.length === 0) return unchanged;
  return { query: `${question.trim()} ${context.join(' ')}`, rewritten: true };
}

/** Whether `question` continues an earlier one (see `rewriteFollowUp`). */
export function isFollowUp(question: string, language: SupportedLanguage): boolean {
  const tokens = tokenize(question);
  // Greetings and thanks are short but answered without retrieval, never rewritten.
  if (tokens.length === 0 || detectAutoReply(question, language)) return false;
  if (tokens.length <= SHORT_QUESTION_WORDS) return true;
  const romanised = language === 'hi';
  if (startsWithAny(tokens, LEADING_MARKERS) || (romanised && startsWithAny(tokens, LEADING_MARKERS_ROMANISED))) {
    return true;
  }
  return tokens.some((token, index) => {
    if (PRONOUNS.has(token) || (romanised && PRONOUNS_ROMANISED.has(token))) return true;
    // "that" points back ("is that free?") unless it follows a noun ("plans that include SSO").
    const previous = tokens[index - 1];
    return token === 'that' && (previous === undefined || isStopword(previous));
  });
}

/** The salient words of the latest earlier question that names a subject. */
function findSubject(turnsNewestFirst: readonly string[], language: SupportedLanguage): string[] | undefined {
  let fallback: string[] | undefined;
  for (const turn of turnsNewestFirst) {
    if (detectAutoReply(turn, language)) continue;
    const words = salientWords(turn);
    if (words.length === 0) continue;
    if (!isFollowUp(turn, language)) return words;
    fallback ??= words;
  }
  return fallback;
}

/** Content words of `text` in their original form, first occurrence only. */
export function salientWords(text: string): string[] {
  const words = text.normalize('NFC').match(/[\p{L}\p{M}\p{N}]+/gu) ?? [];
  const lowered = words.map((word) => normalizeText(word));
  const romanised = romanisedHindiSignal(lowered.filter((word) => /\p{Script=Latin}/u.test(word))).isRomanised;
  const seen = new Set<string>();
  const salient: string[] = [];
  words.forEach((word, index) => {
    const key = lowered[index] ?? word;
    if (seen.has(key) || isStopword(key) || REQUEST_WORDS.has(key) || ROMANISED_HINDI.has(key)) return;
    if (romanised && AMBIGUOUS_ROMANISED_HINDI.has(key)) return;
    seen.add(key);
    salient.push(word);
  });
  return salient;
}

function phraseList(phrases: readonly string[]): readonly (readonly string[])[] {
  return phrases.map((phrase) => tokenize(phrase));
}

function startsWithAny(tokens: readonly string[], phrases: readonly (readonly string[])[]): boolean {
  return phrases.some((phrase) => phrase.every((token, index) => tokens[index] === token));
}
