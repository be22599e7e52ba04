import type { Answer } from '../answers.ts';
import { startAnswers, viewOf } from '../answers.ts';
import type { ChaosEnv, EnvOptions } from '../chaos-env.ts';
import type { ChaosSizes, Scenario, ScenarioContext } from '../scenario.ts';
import { recoveryToTerminal } from '../scenario.ts';
import { callsFor, modelTokens, scriptByTag } from '../scripted-model.ts';
import { verify } from '../verify.ts';

const TOKENS = modelTokens(20);
const TEXT = TOKENS.join('');
/** The query-translation call answers at once and well in every model scenario: only the answer call misbehaves. */
const TRANSLATION = { type: 'text' as const, tokens: ['translated question'] };
const HANG_TIMEOUT_MS = 2_000;

/** One environment serves every model scenario: the scripted model answers by the question's tag. */
function modelEnv(sizes: ChaosSizes): EnvOptions {
  return {
    apis: 2,
    workers: 2,
    env: {
      FRAME_FLUSH_MS: String(sizes.flushMs),
      WORKER_CONCURRENCY: '64',
      // The SDK's own retries would hide failures inside one attempt; retries must show as attempts.
      LLM_MAX_RETRIES: '0',
      // Silence longer than this ends a model call (the hang scenario).
      LLM_TIMEOUT_MS: String(HANG_TIMEOUT_MS),
    },
    scripted: scriptByTag((kind, n, tag = '') => {
      if (tag.startsWith('[llm-401-')) {
        return {
          type: 'http-error',
          status: 401,
          message: 'Incorrect API key provided',
          errorType: 'invalid_request_error',
          code: 'invalid_api_key',
        };
      }
      if (kind === 'tool') return TRANSLATION;
      if (tag.startsWith('[llm-500-') && n <= 2) return { type: 'http-error', status: 500, message: 'scripted overload' };
      if (tag.startsWith('[llm-hang-') && n === 1) return { type: 'stall', tokens: TOKENS.slice(0, 3), tokenDelayMs: 10 };
      return { type: 'text', tokens: TOKENS, tokenDelayMs: 10 };
    }),
  };
}

/** Model scenarios ask fewer questions: each one is a handful of HTTP calls to the in-process scripted server. */
function modelCount(ctx: ScenarioContext): number {
  return Math.max(2, Math.min(ctx.sizes.answers, 16));
}

function answerCalls(env: ChaosEnv, answer: Answer): number {
  if (!env.scripted) return 0;
  return callsFor(env.scripted, answer.tag).filter((c) => c.kind === 'answer').length;
}

function callSummary(env: ChaosEnv, answers: Answer[]): string {
  const scripted = env.scripted;
  if (!scripted) return '';
  const answerCounts = answers.map((a) => answerCalls(env, a));
  const toolCounts = answers.map((a) => callsFor(scripted, a.tag).filter((c) => c.kind === 'tool').length);
  const range = (xs: number[]): string => (Math.min(...xs) === Math.max(...xs) ? String(xs[0]) : `${Math.min(...xs)}-${Math.max(...xs)}`);
  return `model calls per answer: ${range(answerCounts)} answer (streamed) + ${range(toolCounts)} query-translation`;
}

export const llm401: Scenario = {
  name: 'llm-401',
  title: 'model answers 401: fail after one model call',
  fast: true,
  envKey: 'model',
  env: modelEnv,
  async run(env, ctx) {
    const answers = await startAnswers(env, { count: modelCount(ctx), scenario: 'llm-401', allowed: ['failed'] });
    const sentAt = Math.min(...answers.map((a) => a.sentAt));
    const verification = await verify(env, answers, { terminalTimeoutMs: 30_000 });
    const problems: string[] = [];
    for (const answer of answers) {
      const terminal = viewOf(answer).terminal;
      // Whichever call meets the 401 first (query translation or the answer) must be the only one.
      const calls = env.scripted ? callsFor(env.scripted, answer.tag).length : 0;
      if (calls !== 1) problems.push(`${answer.generationId}: ${calls} model calls after a 401 (want exactly 1: no retry, no second call)`);
      if (terminal?.status === 'failed' && !terminal.error)
        problems.push(`${answer.generationId}: failed without an error in the terminal frame`);
      if (terminal && terminal.attempt !== 1)
        problems.push(`${answer.generationId}: ended in attempt ${terminal.attempt} (a 401 is not worth a retry)`);
    }
    return {
      verification,
      recovery: { ms: recoveryToTerminal(answers, sentAt), kind: 'terminal' },
      problems,
      notes: [callSummary(env, answers), 'recovery here: first send → all answers terminal'],
    };
  },
};

export const llm500Twice: Scenario = {
  name: 'llm-500-twice',
  title: 'model answers 500 twice, then streams',
  fast: true,
  envKey: 'model',
  env: modelEnv,
  async run(env, ctx) {
    const answers = await startAnswers(env, { count: modelCount(ctx), scenario: 'llm-500', allowed: ['complete'], expectedText: TEXT });
    const sentAt = Math.min(...answers.map((a) => a.sentAt));
    const verification = await verify(env, answers, { terminalTimeoutMs: 40_000 });
    const problems: string[] = [];
    for (const answer of answers) {
      const view = viewOf(answer);
      const calls = answerCalls(env, answer);
      if (calls !== 3) problems.push(`${answer.generationId}: ${calls} answer calls to the model (want 3: two 500s, then the stream)`);
      if (view.terminal && view.terminal.attempt !== 3)
        problems.push(`${answer.generationId}: ended in attempt ${view.terminal.attempt}, want 3 (each 500 a new attempt)`);
      if (view.attempts.join(',') !== '1,2,3')
        problems.push(`${answer.generationId}: the client saw attempts ${view.attempts.join(',') || '(none)'}, want 1,2,3`);
    }
    return {
      verification,
      recovery: { ms: recoveryToTerminal(answers, sentAt), kind: 'terminal' },
      problems,
      notes: [callSummary(env, answers), 'recovery here: first send → all answers terminal'],
    };
  },
};

export const llmHang: Scenario = {
  name: 'llm-hang',
  title: 'model stops sending mid-stream',
  fast: false,
  envKey: 'model',
  env: modelEnv,
  async run(env, ctx) {
    // Either outcome is right (failed, or retried to complete); hanging is not.
    const answers = await startAnswers(env, { count: modelCount(ctx), scenario: 'llm-hang', allowed: ['complete', 'failed'] });
    const sentAt = Math.min(...answers.map((a) => a.sentAt));
    // Three attempts of one silence timeout each, their backoff and slack.
    const verification = await verify(env, answers, { terminalTimeoutMs: 3 * HANG_TIMEOUT_MS + 25_000 });
    const problems: string[] = [];
    for (const answer of answers) {
      const terminal = viewOf(answer).terminal;
      if (terminal?.status === 'complete' && terminal.text !== TEXT)
        problems.push(`${answer.generationId}: completed with text other than the retried stream's`);
    }
    const statuses = answers.map((a) => viewOf(a).terminal?.status ?? 'none');
    return {
      verification,
      recovery: { ms: recoveryToTerminal(answers, sentAt), kind: 'terminal' },
      problems,
      notes: [
        callSummary(env, answers),
        `ended: ${['complete', 'failed', 'none'].map((s) => `${statuses.filter((x) => x === s).length} ${s}`).join(', ')}`,
        'recovery here: first send → all answers terminal',
      ],
    };
  },
};
