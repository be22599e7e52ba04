import type { SupportedLanguage } from './language.ts';
import { tokenize } from './tokenizer.ts';

export type AutoReplyKind = 'greeting' | 'thanks' | 'confirmation';

export interface AutoReply {
  kind: AutoReplyKind;
  reply: string;
}

export interface AutoReplyOptions {
  /** Greets with the organisation's name when given. */
  organisationName?: string | undefined;
}

// Phrases in English, Devanagari Hindi and romanised Hindi. Matched on tokens,
// so case, punctuation and emoji do not matter.
// biome-ignore format: phrases are grouped by language and script, one group per line
const PHRASES: Readonly<Record<AutoReplyKind, readonly string[]>> = {
  greeting: [
    'hi', 'hii', 'hey', 'heya', 'hiya', 'hello', 'helo', 'hallo', 'hullo', 'howdy', 'greetings', 'yo',
    'good morning', 'good afternoon', 'good evening', 'good day', 'gm', 'how are you', 'how are you doing',
    'how r u', 'how do you do', 'what s up', 'whats up', 'wassup', 'nice to meet you',
    'नमस्ते', 'नमस्कार', 'प्रणाम', 'राम राम', 'हेलो', 'हैलो', 'हाय', 'सुप्रभात', 'शुभ प्रभात',
    'आप कैसे हैं', 'आप कैसे हो', 'कैसे हैं', 'कैसे हो',
    'namaste', 'namastey', 'namaskar', 'namaskaar', 'pranam', 'ram ram', 'aap kaise ho', 'aap kaise hain',
    'kaise ho', 'kaise hain', 'kya haal hai', 'kya hal hai',
  ],
  thanks: [
    'thanks', 'thank', 'thank you', 'thankyou', 'thank u', 'thx', 'thanx', 'thnx', 'thnks', 'ty', 'tysm',
    'many thanks', 'no thanks', 'no thank you', 'much appreciated', 'appreciate it', 'i appreciate it', 'cheers',
    'धन्यवाद', 'शुक्रिया', 'थैंक यू', 'थैंक्स',
    'dhanyavaad', 'dhanyavad', 'dhanyawad', 'dhanyawaad', 'shukriya', 'shukria',
  ],
  confirmation: [
    'ok', 'okay', 'okey', 'okk', 'okie', 'k', 'kk', 'got it', 'gotcha', 'sure', 'sure thing', 'alright', 'all right', 'fine',
    'great', 'cool', 'perfect', 'sounds good', 'yes', 'yeah', 'yep', 'yup', 'noted', 'understood',
    'makes sense', 'awesome', 'nice', 'good', 'all good', 'will do', 'that works', 'no problem', 'np', 'i see',
    'i understand', 'fair enough', 'done',
    'ठीक है', 'ठीक हैं', 'ठीक', 'हाँ', 'हां', 'अच्छा', 'सही है', 'समझ गया', 'समझ गई', 'समझ गयी', 'ओके', 'बढ़िया',
    'theek hai', 'thik hai', 'theek h', 'thik h', 'theek', 'thik', 'accha', 'acha', 'achha', 'achcha', 'haan',
    'haa', 'han', 'ha', 'sahi hai', 'samajh gaya', 'samajh gayi', 'samajh gaye', 'badhiya',
  ],
};

// Politeness and intensifiers that may surround a phrase without making the
// message more than a greeting, thanks or confirmation ("thanks a lot sir",
// "ok ji", "thank you so much for the help", "आपका बहुत धन्यवाद").
const FILLERS: ReadonlySet<string> = new Set(
  tokenize(
    `ji jee sir sirji madam maam mam bro bhai bhaiya dear there everyone all guys team buddy friend mate yaar
    dost again so very much a lot ton bahut really and for the your help info information support reply
    response answer quick that this aapka aapko
    जी सर मैडम भाई भैया दोस्त बहुत आपका आपको और`,
  ),
);

// When several kinds appear ("ok thanks", "hi, thanks"), the reply follows the strongest.
const PRIORITY: readonly AutoReplyKind[] = ['thanks', 'greeting', 'confirmation'];

const PHRASE_TOKENS: readonly { kind: AutoReplyKind; tokens: readonly string[] }[] = PRIORITY.flatMap((kind) =>
  PHRASES[kind].map((phrase) => ({ kind, tokens: tokenize(phrase) })),
).sort((a, b) => b.tokens.length - a.tokens.length);

/**
 * Recognises a message that is only a greeting, thanks or confirmation, and
 * returns the reply to send at once, without retrieval, in `language` (Hindi in
 * Devanagari). Anything more ("hi, what is the refund policy?", "thanks, and
 * what about shipping?") is left to the pipeline: every word must belong to a
 * phrase or be a filler. A question mark disqualifies too, except after a pure
 * greeting ("hello?", "how are you?").
 */
export function detectAutoReply(text: string, language: SupportedLanguage, options: AutoReplyOptions = {}): AutoReply | undefined {
  const kinds = matchPhrases(tokenize(text).map(squeezeRepeats));
  if (!kinds) return undefined;
  const kind = PRIORITY.find((candidate) => kinds.has(candidate));
  if (!kind) return undefined;
  if (/[?？]/.test(text) && kind !== 'greeting') return undefined;
  return { kind, reply: replyFor(kind, language, options.organisationName?.trim() || undefined) };
}

/** The kinds of phrases that cover the whole message, or undefined if any other word is left. */
function matchPhrases(tokens: readonly string[]): Set<AutoReplyKind> | undefined {
  const kinds = new Set<AutoReplyKind>();
  let position = 0;
  while (position < tokens.length) {
    const phrase = PHRASE_TOKENS.find(({ tokens: phraseTokens }) =>
      phraseTokens.every((token, offset) => tokens[position + offset] === token),
    );
    if (phrase) {
      kinds.add(phrase.kind);
      position += phrase.tokens.length;
    } else if (FILLERS.has(tokens[position] ?? '')) {
      position += 1;
    } else {
      return undefined;
    }
  }
  return kinds.size > 0 ? kinds : undefined;
}

/** Chat elongation ("hiiii", "thanksss", "okkk"): runs of three or more letters become one. */
function squeezeRepeats(token: string): string {
  return token.replace(/(\p{L})\1{2,}/gu, '$1');
}

function replyFor(kind: AutoReplyKind, language: SupportedLanguage, organisationName: string | undefined): string {
  if (language === 'hi') {
    switch (kind) {
      case 'greeting':
        return organisationName ? `नमस्ते! ${organisationName} में आपका स्वागत है। बताइए, मैं आपकी क्या मदद करूँ?` : 'नमस्ते! बताइए, मैं आपकी क्या मदद करूँ?';
      case 'thanks':
        return 'आपका स्वागत है! क्या मैं आपकी और कोई मदद करूँ?';
      case 'confirmation':
        return 'ठीक है! किसी और चीज़ में मदद चाहिए तो बताइए।';
    }
  }
  switch (kind) {
    case 'greeting':
      return organisationName ? `Hello! Welcome to ${organisationName}. How can I help you today?` : 'Hello! How can I help you today?';
    case 'thanks':
      return "You're welcome! Is there anything else I can help you with?";
    case 'confirmation':
      return 'Great! Let me know if there is anything else I can help you with.';
  }
}
