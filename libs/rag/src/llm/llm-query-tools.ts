import type { SupportedLanguage } from '../language.ts';
import type { ChatModel, ChatTurn, UsageListener } from './chat-model.ts';
import { buildFollowUpRewritePrompt, buildTranslationPrompt } from './prompts.ts';

const MAX_OUTPUT_TOKENS = 512;

/**
 * A reply longer than `maxChars` is discarded as implausible, and tokens run to two or more
 * characters in English and Hindi alike, so generating past half of it is waste: a local model
 * that rambles on instead of stopping would otherwise hold the server for 512 tokens.
 */
function outputTokens(maxChars: number): number {
  return Math.min(MAX_OUTPUT_TOKENS, Math.ceil(maxChars / 2));
}

/**
 * Rewrites a follow-up into a standalone question with the model. Returns the
 * question unchanged when there is no history to resolve it against, or when
 * the model's output is empty or implausible. Provider failures reject with
 * `LlmError` (so that the caller can fall back to the heuristic rewrite) and
 * aborts with the signal's reason.
 */
export async function rewriteWithLlm(
  model: ChatModel,
  history: readonly ChatTurn[],
  question: string,
  signal: AbortSignal,
  onUsage?: UsageListener,
): Promise<string> {
  signal.throwIfAborted();
  if (question.trim() === '' || !history.some((turn) => turn.role !== 'system' && turn.content.trim() !== '')) {
    return question;
  }
  const maxChars = plausibleLength(question);
  const output = await model.complete(buildFollowUpRewritePrompt(history, question), {
    signal,
    onUsage,
    temperature: 0,
    maxTokens: outputTokens(maxChars),
  });
  return cleanModelOutput(output, { maxLines: 1, maxChars }) ?? question;
}

/**
 * Translates a query into `targetLanguage` with the model; the input itself
 * when the output is empty or implausible. Errors as for `rewriteWithLlm`.
 */
export async function translateWithLlm(
  model: ChatModel,
  text: string,
  targetLanguage: SupportedLanguage,
  signal: AbortSignal,
  onUsage?: UsageListener,
): Promise<string> {
  signal.throwIfAborted();
  if (text.trim() === '') return text;
  const maxChars = plausibleLength(text);
  const output = await model.complete(buildTranslationPrompt(text, targetLanguage), {
    signal,
    onUsage,
    temperature: 0,
    maxTokens: outputTokens(maxChars),
  });
  const lines = text.split(/\r?\n/).filter((line) => line.trim() !== '').length;
  return cleanModelOutput(output, { maxLines: lines, maxChars }) ?? text;
}

// A query is short; a far longer reply means the model answered or explained instead.
function plausibleLength(input: string): number {
  return Math.max(400, input.length * 4);
}

// Labels models put before the answer despite being told not to, bare or in markdown emphasis.
const LABEL =
  /^[*_]*(?:standalone question|rewritten question|rewritten query|question|query|translation|translated query|output|answer|प्रश्न|सवाल|अनुवाद)[*_]*\s*[:：]\s*[*_]*\s*/iu;
const QUOTE_PAIRS: readonly (readonly [string, string])[] = [
  ['"', '"'],
  ["'", "'"],
  ['`', '`'],
  ['“', '”'],
  ['‘', '’'],
  ['«', '»'],
  ['„', '“'],
  ['「', '」'],
];

export interface CleanOutputLimits {
  /** Lines kept (the first non-empty ones); what follows is taken for notes. */
  maxLines: number;
  /** Longer output is rejected as implausible. */
  maxChars: number;
}

/**
 * The text a utility prompt asked for: reasoning blocks, labels, markdown
 * emphasis and surrounding quotes removed; undefined when nothing plausible remains.
 */
export function cleanModelOutput(output: string, limits: CleanOutputLimits): string | undefined {
  // Reasoning models served by vLLM, Ollama or llama.cpp may put their thinking in the content.
  let text = output.replace(/<think>[\s\S]*?(?:<\/think>|$)/gi, '').trim();
  text = text.replace(LABEL, '').trim();
  const lines = text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== '')
    .slice(0, Math.max(1, limits.maxLines));
  let cleaned = lines.join('\n');
  // Twice, for nestings like **"..."** or "Question: ...".
  for (let round = 0; round < 2; round += 1) {
    cleaned = cleaned.replace(/^\*\*(.*)\*\*$/u, '$1').trim();
    cleaned = cleaned.replace(LABEL, '').trim();
    for (const [open, close] of QUOTE_PAIRS) {
      if (cleaned.length < 2 || !cleaned.startsWith(open) || !cleaned.endsWith(close)) continue;
      const inner = cleaned.slice(open.length, cleaned.length - close.length);
      // '"X200" or "X300"' opens and closes with quotes that are not a pair around the whole.
      if (!inner.includes(open) && !inner.includes(close)) cleaned = inner.trim();
    }
  }
  if (cleaned === '' || cleaned.length > limits.maxChars) return undefined;
  return cleaned;
}
