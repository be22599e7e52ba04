import type { SupportedLanguage } from '../language.ts';

const REPLIES: Readonly<Record<SupportedLanguage, string>> = {
  en: "I couldn't find the answer to that in the documents available to me.",
  hi: 'मुझे उपलब्ध दस्तावेज़ों में इस प्रश्न का उत्तर नहीं मिला।',
};

/** The offline reply when the retrieved passages do not answer the question, in the user's language. */
export function notCoveredReply(language: SupportedLanguage): string {
  return REPLIES[language];
}
