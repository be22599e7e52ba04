import { syntheticAnswer } from '@ragstream/rag';
import { askFollowUps, firstToReach, startAnswers, viewOf } from '../answers.ts';
import type { Scenario } from '../scenario.ts';
import { between, recoveryToTerminal, syntheticEnv } from '../scenario.ts';
import { verify } from '../verify.ts';

/** lockDuration (6 s) + stalledInterval (3 s) + margin: by then another worker must have taken the jobs. */
const TAKEOVER_WAIT_MS = 25_000;

/**
 * The zombie case: the worker running answers is SIGSTOPped past its lock, another
 * worker takes the jobs over (attempt 2), then the first is SIGCONTed and resumes its
 * token loop as if nothing happened. Nothing it does may reach clients, the log or the store.
 */
export const workerStall: Scenario = {
  name: 'worker-stall',
  title: 'worker SIGSTOPped past its lock, then SIGCONTed (zombie)',
  fast: false,
  envKey: 'stall',
  env: (sizes) => ({
    apis: 2,
    workers: 2,
    env: syntheticEnv({ ...sizes, tokens: Math.max(sizes.tokens, 300), tokensPerSecond: Math.min(sizes.tokensPerSecond, 30) }),
  }),
  async run(env, ctx) {
    const tokens = Math.max(ctx.sizes.tokens, 300);
    const answers = await startAnswers(env, {
      count: ctx.sizes.answers,
      scenario: 'stall',
      allowed: ['complete'],
      expectedText: syntheticAnswer(tokens),
    });
    answers.push(...(await askFollowUps(answers, 'stall', syntheticAnswer(tokens))));
    const k = between(ctx.random, 5, 40);
    const target = await firstToReach(answers, (f) => f.mt === 'chat_message_bot_partial' && f.seq >= k);
    const worker = await env.workerOf(target.generationId);
    if (!worker) throw new Error(`no worker process runs ${target.generationId}`);
    const owners = await Promise.all(answers.map((a) => env.workerOf(a.generationId)));
    const affected = answers.filter((a, i) => owners[i] === worker && viewOf(a).frames.length > 0 && !viewOf(a).terminal);
    const stoppedAt = performance.now();
    worker.signal('SIGSTOP');
    ctx.log(`SIGSTOPped ${worker.name} (pid ${worker.pid}) holding ${affected.length} answers`);
    // Synchronise on frames: every affected answer shows a new attempt (or ends) on its client.
    const takenOver = await Promise.all(
      affected.map((a) => viewOf(a).waitFrame((f) => f.attempt >= 2 || f.mt === 'chat_message_bot_complete', TAKEOVER_WAIT_MS)),
    );
    const stalledMs = Math.round(performance.now() - stoppedAt);
    worker.signal('SIGCONT');
    ctx.log(`SIGCONTed ${worker.name} after ${stalledMs} ms`);
    const problems: string[] = [];
    const notTaken = affected.filter((_, i) => !takenOver[i]);
    if (notTaken.length > 0)
      problems.push(`${notTaken.length} answers of the stalled worker were not taken over within ${TAKEOVER_WAIT_MS} ms`);
    const verification = await verify(env, answers, { terminalTimeoutMs: 60_000 });
    return {
      verification,
      recovery: { ms: recoveryToTerminal(affected, stoppedAt), kind: 'terminal' },
      problems,
      notes: [`stalled ${worker.name} for ${stalledMs} ms with ${affected.length} answers (kill after seq ${k})`],
    };
  },
};
