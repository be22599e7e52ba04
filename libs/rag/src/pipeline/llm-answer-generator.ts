import { rewriteFollowUp } from '../follow-up.ts';
import type { SupportedLanguage } from '../language.ts';
import type { ChatModel, ChatModelOptions, ChatTurn } from '../llm/chat-model.ts';
import { isLlmError } from '../llm/llm-error.ts';
import { rewriteWithLlm, translateWithLlm } from '../llm/llm-query-tools.ts';
import type { OrganisationContext } from '../llm/prompts.ts';
import { buildAnswerPrompt, buildGeneralAnswerPrompt } from '../llm/prompts.ts';
import type { AnswerGenerator, GenerationInput, GroundedAnswer } from './answer-generator.ts';
import type { HistoryTurn, RetrievedPassage } from './ports.ts';

const OTHER_LANGUAGE: Record<SupportedLanguage, SupportedLanguage> = { en: 'hi', hi: 'en' };

/** How many passages go into the prompt (and are cited). */
const PROMPT_PASSAGES = 5;

/**
 * Answers with an OpenAI-compatible model: it rewrites follow-ups, translates the
 * query for documents in the other language, and streams a grounded answer; when
 * nothing relevant is found it gives a general answer that says it is not grounded.
 * Rewriting and translation fall back to the offline heuristics when the model fails.
 */
export class LlmAnswerGenerator implements AnswerGenerator {
  readonly name: string;
  readonly answersWithoutDocuments = true;

  /** `maxAnswerTokens` caps each streamed answer (LLM_MAX_ANSWER_TOKENS); unset, the model's own limit applies. */
  constructor(
    private readonly model: ChatModel,
    private readonly maxAnswerTokens?: number,
  ) {
    this.name = `llm:${model.name}`;
  }

  async standaloneQuery(input: GenerationInput): Promise<string> {
    if (input.history.length === 0) return input.question;
    try {
      return await rewriteWithLlm(this.model, toModelTurns(input.history), input.question, input.signal, input.onUsage);
    } catch (err) {
      if (!canFallBack(err)) throw err;
      return rewriteFollowUp(input.question, input.history, input.language).query;
    }
  }

  async translatedQueries(query: string, input: GenerationInput): Promise<string[]> {
    try {
      const translated = await translateWithLlm(this.model, query, OTHER_LANGUAGE[input.language], input.signal, input.onUsage);
      return translated.trim() === query.trim() ? [] : [translated];
    } catch (err) {
      if (!canFallBack(err)) throw err;
      return [];
    }
  }

  grounded(passages: RetrievedPassage[], input: GenerationInput): GroundedAnswer {
    const cited = passages.slice(0, PROMPT_PASSAGES);
    const prompt = buildAnswerPrompt({
      organisation: organisationContext(input),
      language: input.language,
      question: input.question,
      passages: cited.map((p) => ({ title: p.title, text: p.text })),
      history: toModelTurns(input.history),
    });
    return { text: this.model.stream(prompt, this.#answerOptions(input)), cited };
  }

  ungrounded(input: GenerationInput): AsyncIterable<string> {
    const prompt = buildGeneralAnswerPrompt({
      organisation: organisationContext(input),
      language: input.language,
      question: input.question,
      history: toModelTurns(input.history),
    });
    return this.model.stream(prompt, this.#answerOptions(input));
  }

  #answerOptions(input: GenerationInput): ChatModelOptions {
    return { signal: input.signal, onUsage: input.onUsage, maxTokens: this.maxAnswerTokens };
  }
}

/**
 * A model that refused the request (bad key, unknown model, 4xx) refuses the answer too:
 * failing now saves a second call that cannot succeed. Other model errors fall back.
 */
function canFallBack(err: unknown): boolean {
  return isLlmError(err) && err.kind !== 'rejected';
}

function organisationContext(input: GenerationInput): OrganisationContext {
  const org = input.organisation;
  return { name: org?.name ?? 'our organisation', industry: org?.industry, description: org?.description, tone: org?.tone };
}

function toModelTurns(history: HistoryTurn[]): ChatTurn[] {
  return history.map((turn) => ({ role: turn.role === 'bot' ? 'assistant' : 'user', content: turn.text }));
}
